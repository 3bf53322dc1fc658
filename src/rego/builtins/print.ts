// print(): OPA's builtinPrint (v1/topdown/print.go) on the host side. The planner has already
// turned each operand into the texts of its values (planner.ts planPrint); what is left is OPA's
// cross product: one line per combination of the operands' values, joined by spaces, an
// undefined operand printing `<undefined>`.
import { PRINT_BUILTIN } from './aliases.js';

export { PRINT_BUILTIN };

/** Where a print() call is: file ('' for a query) and row. */
export interface PrintLocation {
  file: string;
  row: number;
}

export type PrintHook = (message: string, location: PrintLocation) => void;

/** The lines one print() call writes, from the texts of each operand's values. */
export function printLines(operands: unknown): string[] {
  if (!Array.isArray(operands)) return [];
  const lines: string[] = [];
  const buf: string[] = new Array(operands.length);
  const cross = (i: number): void => {
    if (i >= operands.length) {
      lines.push(buf.join(' '));
      return;
    }
    const texts = operands[i];
    if (!Array.isArray(texts) || texts.length === 0) {
      buf[i] = '<undefined>';
      cross(i + 1);
      return;
    }
    for (const t of texts) {
      buf[i] = String(t);
      cross(i + 1);
    }
  };
  cross(0);
  return lines;
}

/** The host builtin print() calls reach, sending each line to `hook`. */
export function printBuiltin(hook: PrintHook): Record<string, (...args: unknown[]) => unknown> {
  return {
    [PRINT_BUILTIN]: (operands: unknown, file: unknown, row: unknown) => {
      const location = { file: typeof file === 'string' ? file : '', row: typeof row === 'number' ? row : 0 };
      for (const line of printLines(operands)) hook(line, location);
      return true;
    },
  };
}
