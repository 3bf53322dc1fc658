// Heavy dependencies of rarely used builtins (graphql-js, ajv), loaded on a builtin's first call
// rather than with the builtin table: a cold start of the CLI should not pay for them. The load
// is synchronous (a require) because builtins run inside the SDK's synchronous evaluation.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazy<T>(id: string): () => T {
  let mod: T | undefined;
  return () => (mod ??= require(id) as T);
}
