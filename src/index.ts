/**
 * rho-slm: Selective Language Modeling (Rho-1) over plain typed arrays, with no dependencies.
 *
 * @packageDocumentation
 * @module rho-slm
 */
export * from './core/index.js';
