// METADATA comment blocks (`# METADATA` followed by YAML in `#` comments on the
// following lines), parsed as OPA's parseAnnotations does. The result is kept as
// plain objects: the compiler does not need annotations for evaluation.
import { parse as parseYAML } from 'yaml';
import type { Comment, Location, Module, RegoError } from '../ast/types.js';

type Annotation = { scope: string; location?: Location; [key: string]: unknown };

export function parseAnnotations(
  comments: Comment[],
  module: Module,
  file: string,
): { annotations: Annotation[]; errors: RegoError[] } {
  const blocks: Array<{ loc: Location; lines: string[]; comments: Comment[] }> = [];
  let curr: (typeof blocks)[number] | undefined;
  for (let i = 0; i < comments.length; i++) {
    const c = comments[i]!;
    if (curr) {
      const prev = comments[i - 1]!;
      if (c.location.row === prev.location.row + 1 && c.location.col === 1) {
        curr.lines.push(c.text.startsWith(' ') ? c.text.slice(1) : c.text);
        curr.comments.push(c);
        continue;
      }
      curr = undefined;
    }
    if (c.text.trim().startsWith('METADATA')) {
      curr = { loc: c.location, lines: [], comments: [] };
      blocks.push(curr);
    }
  }

  const annotations: Annotation[] = [];
  const errors: RegoError[] = [];
  const pkgOffset = module.package.location?.offset ?? 0;
  for (const b of blocks) {
    const text = b.lines.join('\n') + '\n';
    if (text.trim() === '') {
      errors.push({ code: 'rego_parse_error', message: 'expected METADATA block, found whitespace', location: b.loc });
      continue;
    }
    let raw: unknown;
    try {
      raw = parseYAML(text);
    } catch (e) {
      errors.push({ code: 'rego_parse_error', message: `yaml: ${(e as Error).message.split('\n')[0]}`, location: b.comments[0]?.location ?? b.loc });
      continue;
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      errors.push({ code: 'rego_parse_error', message: 'yaml: unmarshal errors: cannot unmarshal into annotations', location: b.loc });
      continue;
    }
    const obj = raw as Record<string, unknown>;
    // OPA defaults the scope from what the block precedes: the package or a rule.
    const scope = typeof obj.scope === 'string' ? obj.scope : b.loc.offset < pkgOffset ? 'package' : 'rule';
    const location: Location = { ...b.loc, file, text: ['# METADATA', ...b.lines.map((l) => `# ${l}`)].join('\n') };
    annotations.push({ ...obj, scope, location });
  }
  return { annotations, errors };
}
