#!/usr/bin/env node
// Prepares the runtime templates for linking (both modes, see src/rego/wasm/template.ts) next
// to the built runtime, so policies link without loading binaryen, even on a first run.
//   node scripts/prepare-template.mjs               after `tsc`: into dist/ (what a package ships)
//   node --import tsx scripts/prepare-template.mjs --from-src
//                                                   into src/rego/runtime/build/ (tests run from the sources)
// Templates already there for the current runtime are kept.
const fromSrc = process.argv.includes('--from-src');
const module = new URL(fromSrc ? '../src/rego/wasm/template.ts' : '../dist/src/rego/wasm/template.js', import.meta.url);
const { prepareTemplateFiles } = await import(module.href);
const { written, kept } = await prepareTemplateFiles();
if (written.length > 0) console.log(`prepare-template: ${written.join(', ')}${kept.length ? ` (kept ${kept.join(', ')})` : ''}`);
