// The base data document: files merge into one JSON object, as OPA's loader does.
export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep-merge b into a copy of a. Two non-object values at one path are a conflict (OPA: merge error). */
export function mergeData(a: JsonObject, b: JsonObject, path: string[] = []): JsonObject {
  const out: JsonObject = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (!(k in out)) {
      out[k] = v;
    } else if (isObject(out[k]) && isObject(v)) {
      out[k] = mergeData(out[k] as JsonObject, v, [...path, k]);
    } else {
      throw new Error(`merge error: conflicting values at data.${[...path, k].join('.')}`);
    }
  }
  return out;
}

/** `{}` with value placed at path (path non-empty), e.g. ['a','b'] -> {a: {b: value}}. */
export function setAtPath(base: JsonObject, path: string[], value: unknown): JsonObject {
  if (path.length === 0) {
    if (!isObject(value)) throw new Error('root data document must be an object');
    return mergeData(base, value);
  }
  let nested: unknown = value;
  for (let i = path.length - 1; i >= 0; i--) nested = { [path[i]!]: nested };
  return mergeData(base, nested as JsonObject);
}
