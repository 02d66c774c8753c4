/**
 * Minimal ambient types for dcmjs 0.51 (the package ships none).
 *
 * Covers only what the project uses: `data.DicomDict` (construct + `write`),
 * `data.DicomMessage.readFile`, `data.DicomMetaDictionary`
 * (`naturalizeDataset`, `denaturalizeDataset`, `uid`, `nameMap`).
 * Element values are typed `unknown`: callers narrow what they read.
 * Checked against node_modules/dcmjs/build/dcmjs.es.js (0.51.1).
 */
declare module "dcmjs" {
  namespace data {
    /** One element of a tag-keyed ("denaturalized") dataset, e.g. `{ vr: "UI", Value: ["1.2.3"] }`. */
    interface DicomElement {
      vr: string;
      Value?: unknown[];
      /** Present on elements read with `forceStoreRaw`, or kept raw by the reader. */
      _rawValue?: unknown;
    }

    /** Tag-keyed dataset: keys are 8 hex digits ("00080016"). */
    type DenaturalizedDataset = Record<string, DicomElement>;

    /**
     * Keyword-keyed dataset ("PatientID", "ContentSequence"…). Sequences are arrays of
     * naturalized datasets; multi-valued elements are arrays; `_vrMap` and `_meta` are
     * dcmjs bookkeeping keys.
     */
    type NaturalizedDataset = Record<string, unknown>;

    interface ReadFileOptions {
      ignoreErrors?: boolean;
      /** Stop reading at this tag, e.g. "7FE00010" to skip pixel data. */
      untilTag?: string | null;
      includeUntilTagValue?: boolean;
      noCopy?: boolean;
      forceStoreRaw?: boolean;
    }

    interface WriteOptions {
      /** Write values longer than their VR allows instead of throwing. Default false. */
      allowInvalidVRLength?: boolean;
      fragmentMultiframe?: boolean;
    }

    class DicomDict {
      constructor(meta: DenaturalizedDataset);
      meta: DenaturalizedDataset;
      dict: DenaturalizedDataset;
      upsertTag(tag: string, vr: string, values: unknown[]): void;
      /** Part 10 bytes: 128-byte preamble, "DICM", group 0002, then the dataset. */
      write(writeOptions?: WriteOptions): ArrayBuffer;
    }

    class DicomMessage {
      /** Parses a Part 10 file. Pass an ArrayBuffer that covers exactly the file's bytes. */
      static readFile(buffer: ArrayBuffer, options?: ReadFileOptions): DicomDict;
    }

    interface DictionaryEntry {
      /** "(GGGG,EEEE)" */
      tag: string;
      vr: string;
      vm?: string;
      name: string;
      version?: string;
    }

    class DicomMetaDictionary {
      static naturalizeDataset(dataset: DenaturalizedDataset): NaturalizedDataset;
      static denaturalizeDataset(dataset: NaturalizedDataset): DenaturalizedDataset;
      /** A random "2.25.…" UID (not reproducible). */
      static uid(): string;
      /** Keyword → dictionary entry. */
      static nameMap: Record<string, DictionaryEntry>;
    }
  }

  const dcmjs: { data: typeof data };
  export { data };
  export default dcmjs;
}
