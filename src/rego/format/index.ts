// Canonical Rego formatting (`opa fmt`).
export { formatModule, formatSource } from './format.js';
