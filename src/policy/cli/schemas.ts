// Schemas for type checking policies (`-s/--schema`, as OPA's loader.Schemas): a file is
// `schema.input`; a directory gives every .json file below it as `schema.<path without .json>`
// (`schema.input`, `schema.a.b`), which `# METADATA` `schemas:` annotations refer to. `$ref`s
// between documents resolve by `$id` or by file name next to the referring file.
// By default the gateway's own input schema (schemas/input.schema.json) types `input` in the
// packages under `sip` (`--no-sip-schemas` turns that off; an `input` schema from -s replaces it).
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative, resolve as resolvePath, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import identitySchema from '../../../schemas/identity.schema.json' with { type: 'json' };
import inputSchema from '../../../schemas/input.schema.json' with { type: 'json' };
import sipMessageSchema from '../../../schemas/sip-message.schema.json' with { type: 'json' };
import type { RegoError, SchemaOptions } from '../../rego/index.js';

/** The packages the gateway's input schema applies to by default (and their subpackages). */
export const SIP_PACKAGE = 'sip';

const BUNDLED: unknown[] = [inputSchema, identitySchema, sipMessageSchema];

async function jsonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await jsonFiles(p)));
    else if (e.name.endsWith('.json')) out.push(p);
  }
  return out.sort();
}

async function readSchema(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
}

export interface SchemaFlags {
  /** `-s`: a schema file (schema.input) or a directory of schemas. */
  schema?: string;
  /** false: no default schema for `sip` packages. */
  sipSchemas?: boolean;
}

/** SchemaOptions for the toolchain from the CLI flags, or a load error. */
export async function loadSchemaOptions(flags: SchemaFlags): Promise<SchemaOptions | RegoError> {
  const docs = new Map<string, unknown>();
  const register = (uri: string, doc: unknown) => {
    docs.set(uri, doc);
    const id = (doc as { $id?: unknown })?.$id;
    if (typeof id === 'string') docs.set(id, doc);
  };
  for (const d of BUNDLED) register(String((d as { $id: string }).$id), d);
  const opts: SchemaOptions = { resolve: (uri) => docs.get(uri), set: {}, bases: {} };
  if (flags.schema) {
    try {
      const path = resolvePath(flags.schema);
      const st = await stat(path);
      if (st.isDirectory()) {
        for (const f of await jsonFiles(path)) {
          const doc = await readSchema(f);
          const uri = pathToFileURL(f).href;
          register(uri, doc);
          const key = relative(path, f).replace(/\.json$/, '').split(sep).join('.');
          opts.set![key] = doc;
          opts.bases![key] = uri;
        }
      } else {
        const doc = await readSchema(path);
        const uri = pathToFileURL(path).href;
        register(uri, doc);
        // its neighbours, for $refs by file name
        for (const f of await jsonFiles(join(path, '..')).catch(() => [])) {
          if (f !== path) register(pathToFileURL(f).href, await readSchema(f).catch(() => undefined));
        }
        opts.set!.input = doc;
        opts.bases!.input = uri;
      }
    } catch (e) {
      return { code: 'rego_load_error', message: `schema: ${(e as Error).message}` };
    }
  }
  if (flags.sipSchemas !== false && opts.set!.input === undefined) {
    opts.packages = [{ package: SIP_PACKAGE, input: inputSchema, base: String((inputSchema as { $id: string }).$id) }];
  }
  return opts;
}
