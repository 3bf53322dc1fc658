// JSON text to JS values without losing integers: integer literals beyond 2^53 become bigints
// (JSON.parse would round 1670006453141828752 to ...864). Used for host-builtin arguments the
// planner hands over as json.marshal text (HOST_BUILTIN_EXACT_ARGS), e.g. int64 nanoseconds.
// Iterative, so deeply nested values cannot exhaust the stack.

export class ExactJSONError extends Error {}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

type Frame = { kind: 'array'; value: unknown[] } | { kind: 'object'; value: Record<string, unknown>; key?: string };

export function parseExactJSON(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const fail = (): never => {
    throw new ExactJSONError(`invalid JSON at offset ${i}`);
  };
  const scalar = (): unknown => {
    const c = text[i];
    if (c === '"') {
      STRING.lastIndex = i;
      const m = STRING.exec(text) ?? fail();
      i += m[0].length;
      return JSON.parse(m[0]);
    }
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text) ?? fail();
    i += m[0].length;
    const n = Number(m[0]);
    if (/^-?\d+$/.test(m[0]) && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  };

  const stack: Frame[] = [];
  let result: unknown;
  let done = false;
  const emit = (v: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) {
      result = v;
      done = true;
    } else if (top.kind === 'array') top.value.push(v);
    else top.value[top.key!] = v;
  };
  ws();
  while (!done) {
    const top = stack[stack.length - 1];
    // inside a container: separators, keys and closers
    if (top) {
      ws();
      const c = text[i];
      const empty = top.kind === 'array' ? top.value.length === 0 : Object.keys(top.value).length === 0 && top.key === undefined;
      if ((top.kind === 'array' && c === ']') || (top.kind === 'object' && c === '}')) {
        i++;
        stack.pop();
        emit(top.value);
        continue;
      }
      if (!empty) {
        if (c !== ',') fail();
        i++;
        ws();
      }
      if (top.kind === 'object') {
        if (text[i] !== '"') fail();
        top.key = scalar() as string;
        ws();
        if (text[i] !== ':') fail();
        i++;
      }
      ws();
    }
    const c = text[i];
    if (c === '[') {
      i++;
      stack.push({ kind: 'array', value: [] });
    } else if (c === '{') {
      i++;
      stack.push({ kind: 'object', value: {} });
    } else {
      emit(scalar());
    }
  }
  ws();
  if (i !== text.length) fail();
  return result;
}
