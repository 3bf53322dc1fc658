// The AST toolkit (OPA's v1/ast package, the parts the toolchain and its tools share): node
// types, constructors, predicates, the one printer (OPA's String() forms), the value order,
// JSON conversion and the walkers (VarVisitor, WalkTerms, IsGround, IsConstant, ...).
export type * from './types.js';
export * from './build.js';
export * from './nodes.js';
export * from './location.js';
export * from './print.js';
export * from './walk.js';
export { compareNumbers, compareStrings, compareTerms, compareValues, sortTerms, termsEqual } from './compare.js';
export { jsonToTerm, jsonToValue, termToJSON, valueToJSON, type JSONValue } from './json.js';
