// Evaluation errors as they leave a compiled module (the SDK throws the runtime's abort message):
// `<code>: <message>`, or for conflict errors `<file>:<row>:<col>: <code>: <message>`. Parsed
// into OPA's topdown.Error shape: code, message and location, and its Error() text
// (`file:row: code: message`).

export interface EvalError {
  code: string;
  message: string;
  location?: { file: string; row: number; col: number };
}

const WITH_LOCATION = /^(.+):(\d+):(\d+): ([a-z_]+_error): ([\s\S]*)$/;
const PLAIN = /^([a-z_]+_error): ([\s\S]*)$/;

/** The error an evaluation threw (an Error or a string), as OPA's topdown.Error. */
export function parseEvalError(thrown: unknown): EvalError {
  const text = typeof thrown === 'string' ? thrown : ((thrown as Error)?.message ?? String(thrown));
  const at = WITH_LOCATION.exec(text);
  if (at) return { code: at[4]!, message: at[5]!, location: { file: at[1]!, row: Number(at[2]), col: Number(at[3]) } };
  const plain = PLAIN.exec(text);
  if (plain) return { code: plain[1]!, message: plain[2]! };
  return { code: 'eval_error', message: text };
}

/** OPA's topdown.Error.Error(): `file:row: code: message`, or `code: message` without a location. */
export function evalErrorText(e: EvalError): string {
  return `${e.location ? `${e.location.file}:${e.location.row}: ` : ''}${e.code}: ${e.message}`;
}
