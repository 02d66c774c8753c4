/** What a backfill source (a DIMSE PACS or a DICOMweb server) offers the run. */

export interface StudyRef {
  studyInstanceUid: string;
  /** DA, when the peer returned it. */
  studyDate: string | null;
}

export interface SeriesRef {
  studyInstanceUid: string;
  seriesInstanceUid: string;
  modality: string | null;
  /** Number of Series Related Instances, when the peer returned it. */
  instances: number | null;
}

/** One retrieved object: Part 10 bytes and a name for messages. */
export interface RetrievedObject {
  bytes: Uint8Array;
  name: string;
}

export interface RetrieveHooks {
  /** Waits for the rate limiter's next slot (a source calls it once per object). */
  pace(): Promise<void>;
  /** Ingests one object; resolves once it is committed. Its status is what a DIMSE source answers. */
  deliver(object: RetrievedObject): Promise<{ status: number; comment: string | null }>;
  /** Aborts when the run is stopping: the source ends the transfer after the object in hand. */
  signal: AbortSignal;
}

export interface RetrieveOutcome {
  /** Objects handed to `deliver`. */
  received: number;
  /** Objects the peer reported it could not send (C-GET/C-MOVE failed sub-operations, HTTP errors). */
  failed: number;
  /** Why, one line each, naming the peer. */
  failures: string[];
  /**
   * Objects the peer reported as not sent while the retrieve as a whole succeeded (C-GET/C-MOVE
   * status 0xB000), e.g. an object of a class we did not ask for in an SR series. Reported as
   * warnings; the series still counts as done, since asking again gives the same answer.
   */
  notSent: number;
  warnings: string[];
  /** The transfer was cut short by the run stopping. */
  interrupted: boolean;
}

export interface BackfillSource {
  /** For messages: `PACS@pacs.example:104` or the DICOMweb base URL. */
  readonly label: string;
  /** Checkpoint job key: the source and what is retrieved from it. */
  readonly job: string;
  findStudies(from: string, to: string): Promise<StudyRef[]>;
  /** Series of the wanted modalities in each study, in study order. */
  findSeries(studies: StudyRef[]): Promise<SeriesRef[]>;
  retrieveSeries(series: SeriesRef, hooks: RetrieveHooks): Promise<RetrieveOutcome>;
  close(): Promise<void>;
}

/** A failure that stops the run (peer unreachable, association refused, query refused). */
export class BackfillError extends Error {
  override name = "BackfillError";
}

/** Modalities of image series whose headers carry dose (with --images). */
export const DOSE_IMAGE_MODALITIES: readonly string[] = ["CT", "DX", "CR", "MG", "RF", "XA", "NM", "PT", "PX", "IO"];
