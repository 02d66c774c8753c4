/**
 * src/dicom/ owns DICOM dose objects: pure, bytes in and DoseReport out. It reads Part 10
 * files and raw datasets (reader/), classifies them by SOP class and root concept
 * (classify.ts), walks SR content trees (sr/), converts units by their UCUM codes
 * (units.ts), reads the common header and the patient identity (header.ts), and hands
 * image headers to images/; header-walker.ts finds where an image's header ends (the bytes
 * before Pixel Data, the part of an image that is kept). It imports nothing of storage,
 * linkage or HTTP.
 */
export { parseDicom, setImageDoseExtractor, type ParseOptions, type ImageDoseExtractor, type ImageDoseResult } from "./parse.js";
export * from "./dose-report.js";
export { readDicomBytes, setElementBudget, DEFAULT_MAX_ELEMENTS, type ReadOptions, type ReadResult } from "./reader/read.js";
export { headerBeforePixelData, TopLevelWalker, encodingOf, type Encoding, type HeaderOptions } from "./header-walker.js";
export { DicomDataset } from "./reader/dataset.js";
export { tagOf, tagTable } from "./reader/dictionary.js";
export { readHeader, isoDate, isoTime, isoDateTime, ageInYears, type Header } from "./header.js";
export { route, srTemplate, projectionModality, SOP, IMAGE_SOP_CLASSES, type SrTemplate } from "./classify.js";
export { readContentTree, MAX_DEPTH, MAX_ITEMS, type ContentItem, type ContentTree, type Code, type NumValue } from "./sr/content.js";
export { convertUnit, UNIT_TABLE, TARGETS, type TargetUnit, type Quantity, type ConversionResult } from "./units.js";
export { C as CONCEPTS, conceptKey } from "./codes.js";
