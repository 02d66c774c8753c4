/**
 * The few FHIR R4 datatypes the builders write, typed loosely: resources are plain JSON objects
 * (`FhirResource`), checked against the IG's required elements by validate.ts rather than by a
 * full type model.
 */

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json | undefined };

export interface FhirResource {
  resourceType: string;
  id?: string;
  [element: string]: Json | undefined;
}

export interface Coding {
  [k: string]: Json | undefined;
  system?: string;
  code?: string;
  display?: string;
}

export interface CodeableConcept {
  [k: string]: Json | undefined;
  coding?: Coding[];
  text?: string;
}

export interface Extension {
  [k: string]: Json | undefined;
  url: string;
  valueCode?: string;
}

export interface Reference {
  [k: string]: Json | undefined;
  reference?: string;
  type?: string;
  identifier?: Identifier;
  display?: string;
  extension?: Extension[];
}

export interface Identifier {
  [k: string]: Json | undefined;
  use?: string;
  type?: CodeableConcept;
  system?: string;
  value?: string;
  _value?: { extension: Extension[] };
  assigner?: Reference;
}
