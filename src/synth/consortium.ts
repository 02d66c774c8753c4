/**
 * The synthetic consortium: four acute trusts of Kent and Medway (real ODS codes and trust
 * names; sites are the trusts' real hospitals) with 2–3 dose-reporting devices each. Device
 * makes/models are plausible, serial numbers and station names are invented.
 */

export type SynthModality = "CT" | "DX" | "RF" | "MG" | "NM";

export interface TrustInfo {
  ods: string;
  name: string;
}

export interface DeviceDef {
  /** Stable key; the Device Observer UID is derived from it (not from the seed). */
  key: string;
  ods: string;
  modality: SynthModality;
  manufacturer: string;
  model: string;
  stationName: string;
  serialNumber: string;
  softwareVersions: string;
  institutionName: string;
  /** Studies generated on this device. */
  studies: number;
  /** Protocol naming style (scout name and exam protocols). */
  vendorStyle: "siemens" | "ge" | "canon" | "philips" | "other";
  /** Two X-ray sources on body spiral acquisitions (dual-source CT). */
  dualSource?: boolean;
  /** Writes pre-2019 SRT codes. */
  legacyCodes?: boolean;
  /** Writes the DICOM 2025 phantom code meanings. */
  phantom2025?: boolean;
}

export const TRUSTS: readonly TrustInfo[] = [
  { ods: "RVV", name: "East Kent Hospitals University NHS Foundation Trust" },
  { ods: "RN7", name: "Dartford and Gravesham NHS Trust" },
  { ods: "RPA", name: "Medway NHS Foundation Trust" },
  { ods: "RWF", name: "Maidstone and Tunbridge Wells NHS Trust" },
];

export const DEVICES: readonly DeviceDef[] = [
  {
    key: "RVV-CT-WHH-FORCE",
    ods: "RVV",
    modality: "CT",
    manufacturer: "SIEMENS",
    model: "SOMATOM Force",
    stationName: "WHHCT2",
    serialNumber: "73512",
    softwareVersions: "syngo CT VB20A",
    institutionName: "William Harvey Hospital",
    studies: 8,
    vendorStyle: "siemens",
    dualSource: true,
  },
  {
    key: "RVV-CT-QEQM-REVO",
    ods: "RVV",
    modality: "CT",
    manufacturer: "GE MEDICAL SYSTEMS",
    model: "Revolution EVO",
    stationName: "QEQMCT1",
    serialNumber: "REVO44817",
    softwareVersions: "revo_evo.17",
    institutionName: "Queen Elizabeth The Queen Mother Hospital",
    studies: 8,
    vendorStyle: "ge",
  },
  {
    key: "RVV-MG-KCH-SELENIA",
    ods: "RVV",
    modality: "MG",
    manufacturer: "HOLOGIC, Inc.",
    model: "Selenia Dimensions",
    stationName: "KCHMAM1",
    serialNumber: "SD81234",
    softwareVersions: "1.11.2",
    institutionName: "Kent and Canterbury Hospital",
    studies: 6,
    vendorStyle: "other",
  },
  {
    key: "RN7-CT-DVH-PRIME",
    ods: "RN7",
    modality: "CT",
    manufacturer: "CANON_MEC",
    model: "Aquilion Prime SP",
    stationName: "DVHCT1",
    serialNumber: "2GA19X2041",
    softwareVersions: "V10.8",
    institutionName: "Darent Valley Hospital",
    studies: 8,
    vendorStyle: "canon",
    legacyCodes: true,
  },
  {
    key: "RN7-DX-DVH-C90",
    ods: "RN7",
    modality: "DX",
    manufacturer: "Philips",
    model: "DigitalDiagnost C90",
    stationName: "DVHDR2",
    serialNumber: "10442",
    softwareVersions: "1.1.3",
    institutionName: "Darent Valley Hospital",
    studies: 7,
    vendorStyle: "philips",
  },
  {
    key: "RN7-RF-DVH-LUMINOS",
    ods: "RN7",
    modality: "RF",
    manufacturer: "SIEMENS",
    model: "Luminos dRF Max",
    stationName: "DVHFL1",
    serialNumber: "16208",
    softwareVersions: "VF10F",
    institutionName: "Darent Valley Hospital",
    studies: 5,
    vendorStyle: "siemens",
  },
  {
    key: "RPA-CT-MMH-INCISIVE",
    ods: "RPA",
    modality: "CT",
    manufacturer: "Philips",
    model: "Incisive CT",
    stationName: "MMHCT1",
    serialNumber: "300217",
    softwareVersions: "4.5.0",
    institutionName: "Medway Maritime Hospital",
    studies: 8,
    vendorStyle: "philips",
    phantom2025: true,
  },
  {
    key: "RPA-DX-MMH-DRXEVO",
    ods: "RPA",
    modality: "DX",
    manufacturer: "CARESTREAM HEALTH",
    model: "DRX-Evolution Plus",
    stationName: "MMHDR1",
    serialNumber: "EVP2208",
    softwareVersions: "5.7.412",
    institutionName: "Medway Maritime Hospital",
    studies: 7,
    vendorStyle: "other",
  },
  {
    key: "RPA-NM-MMH-DMI",
    ods: "RPA",
    modality: "NM",
    manufacturer: "GE MEDICAL SYSTEMS",
    model: "Discovery MI",
    stationName: "MMHPET1",
    serialNumber: "DMI10931",
    softwareVersions: "pet_coreload.47",
    institutionName: "Medway Maritime Hospital",
    studies: 5,
    vendorStyle: "ge",
  },
  {
    key: "RWF-CT-TWH-GOTOP",
    ods: "RWF",
    modality: "CT",
    manufacturer: "SIEMENS",
    model: "SOMATOM go.Top",
    stationName: "TWHCT1",
    serialNumber: "115098",
    softwareVersions: "syngo CT VA40A",
    institutionName: "Tunbridge Wells Hospital",
    studies: 8,
    vendorStyle: "siemens",
  },
  {
    key: "RWF-MG-MH-PRISTINA",
    ods: "RWF",
    modality: "MG",
    manufacturer: "GE HEALTHCARE",
    model: "Senographe Pristina",
    stationName: "MHMAM2",
    serialNumber: "PR1010877",
    softwareVersions: "ADS_84.10",
    institutionName: "Maidstone Hospital",
    studies: 6,
    vendorStyle: "ge",
  },
  {
    key: "RWF-NM-MH-VISION",
    ods: "RWF",
    modality: "NM",
    manufacturer: "SIEMENS",
    model: "Biograph Vision 600",
    stationName: "MHPET1",
    serialNumber: "11154",
    softwareVersions: "VG80B",
    institutionName: "Maidstone Hospital",
    studies: 5,
    vendorStyle: "siemens",
  },
];
