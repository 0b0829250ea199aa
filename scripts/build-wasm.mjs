// Writes src/core/kernels/rowKernelsWasm.ts: the core's SIMD row kernels, a WebAssembly module
// assembled from the text below and stored as base64, so the published core has no runtime
// dependency. `--check` fails when the committed file differs from what this script produces.
//
// The exp is written out inline in each loop (node 20's V8 does not inline wasm calls), from one
// template, exp4(); rows are float32 at byte offsets in the module's memory; sums are f64.
import { readFileSync, writeFileSync } from 'node:fs';
import wabtFactory from 'wabt';

const splat = (value) => `(v128.const f32x4 ${value} ${value} ${value} ${value})`;

/** The constants of exp4(), held in locals set once per call: V8 rebuilds a v128.const at every use. */
const EXP_CONSTANTS = {
  clamp: -87.33654, // below this, 2^k would leave the normal floats
  log2e: Math.LOG2E,
  roundShift: 12582912, // 1.5·2^23: adding then subtracting it rounds a float to an integer
  ln2High: 0.693359375,
  ln2Low: -2.1219444e-4,
  p0: 1.98756915e-4,
  p1: 1.39819995e-3,
  p2: 8.33345191e-3,
  p3: 4.16657959e-2,
  p4: 1.66666655e-1,
  p5: 5.00000012e-1,
  one: 1,
};
const c = (name) => `(local.get $c_${name})`;
const expLocals = [
  '(local $d v128) (local $t v128) (local $k v128) (local $r v128) (local $r2 v128) (local $p v128) (local $e v128) (local $c_bias v128)',
  ...Object.keys(EXP_CONSTANTS).map((name) => `(local $c_${name} v128)`),
].join(' ');
const expSetup = [
  ...Object.entries(EXP_CONSTANTS).map(([name, value]) => `(local.set $c_${name} ${splat(value)})`),
  // bits of (1.5·2^23 + k) − bits of 1.5·2^23 + 127 = the biased exponent of 2^k
  '(local.set $c_bias (v128.const i32x4 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81 0x4B3FFF81))',
].join('\n    ');

/**
 * exp of four lanes of `d` (d <= 0; clamped at -87.33 so 2^k stays normal; NaN propagates), into
 * local $e. Cephes expf: k = round(d·log2 e), r = d − k·ln 2 in two parts, e^r = 1 + r + r²·P(r)
 * with P evaluated by Estrin's scheme (short dependency chains), 2^k assembled in the exponent bits.
 * About 1 ulp.
 */
const exp4 = (d) => `
    (local.set $d (f32x4.pmax ${d} ${c('clamp')}))
    (local.set $t (f32x4.add (f32x4.mul (local.get $d) ${c('log2e')}) ${c('roundShift')}))
    (local.set $k (f32x4.sub (local.get $t) ${c('roundShift')}))
    (local.set $r (f32x4.sub (f32x4.sub (local.get $d) (f32x4.mul (local.get $k) ${c('ln2High')}))
                             (f32x4.mul (local.get $k) ${c('ln2Low')})))
    (local.set $r2 (f32x4.mul (local.get $r) (local.get $r)))
    (local.set $p (f32x4.add (f32x4.mul ${c('p0')} (local.get $r)) ${c('p1')}))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2))
      (f32x4.add (f32x4.mul ${c('p2')} (local.get $r)) ${c('p3')})))
    (local.set $p (f32x4.add (f32x4.mul (local.get $p) (local.get $r2))
      (f32x4.add (f32x4.mul ${c('p4')} (local.get $r)) ${c('p5')})))
    (local.set $e (f32x4.mul
      (f32x4.add (f32x4.add (f32x4.mul (local.get $p) (local.get $r2)) (local.get $r)) ${c('one')})
      (i32x4.shl (i32x4.sub (local.get $t) (local.get $c_bias)) (i32.const 23))))`;

const at = (base, index) => `(i32.add (local.get ${base}) (i32.shl (local.get ${index}) (i32.const 2)))`;

const wat = `
(module
  (memory (export "memory") 1)

  ;; Largest of the n floats at byte offset $ptr (NaN entries may be skipped: the sum catches them).
  (func (export "rowMax") (param $ptr i32) (param $n i32) (result f32)
    (local $i i32) (local $whole i32) (local $a v128) (local $b v128) (local $m f32)
    (local.set $a ${splat('-inf')}) (local.set $b ${splat('-inf')})
    (local.set $whole (i32.and (local.get $n) (i32.const -8)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
      (local.set $a (f32x4.pmax (local.get $a) (v128.load ${at('$ptr', '$i')})))
      (local.set $b (f32x4.pmax (local.get $b) (v128.load offset=16 ${at('$ptr', '$i')})))
      (local.set $i (i32.add (local.get $i) (i32.const 8)))
      (br $next)))
    (local.set $a (f32x4.pmax (local.get $a) (local.get $b)))
    (local.set $m (f32.max
      (f32.max (f32x4.extract_lane 0 (local.get $a)) (f32x4.extract_lane 1 (local.get $a)))
      (f32.max (f32x4.extract_lane 2 (local.get $a)) (f32x4.extract_lane 3 (local.get $a)))))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $m (f32.max (local.get $m) (f32.load ${at('$ptr', '$i')})))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (local.get $m))

  ;; Σ exp(x − max) over the n floats at byte offset $ptr, in f64 (NaN if any x is NaN).
  (func (export "rowSumExp") (param $ptr i32) (param $n i32) (param $max f32) (result f64)
    (local $i i32) (local $whole i32) (local $shift v128) (local $low v128) (local $high v128) ${expLocals}
    ${expSetup}
    (local.set $shift (f32x4.splat (local.get $max)))
    (local.set $whole (i32.and (local.get $n) (i32.const -4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
      ${exp4(`(f32x4.sub (v128.load ${at('$ptr', '$i')}) (local.get $shift))`)}
      (local.set $low (f64x2.add (local.get $low) (f64x2.promote_low_f32x4 (local.get $e))))
      (local.set $high (f64x2.add (local.get $high)
        (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (local.set $low (f64x2.add (local.get $low) (local.get $high)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      ${exp4(`(f32x4.splat (f32.sub (f32.load ${at('$ptr', '$i')}) (local.get $max)))`)}
      (local.set $low (f64x2.add (local.get $low) (f64x2.promote_low_f32x4 (v128.and (local.get $e) (v128.const i32x4 -1 0 0 0)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (f64.add (f64x2.extract_lane 0 (local.get $low)) (f64x2.extract_lane 1 (local.get $low))))

  ;; out[j] = weight · exp(x_j − logSumExp) for the n floats at $in, written at $out. The shift is
  ;; taken in f64, so probabilities near 1 keep their digits.
  (func (export "rowSoftmax") (param $in i32) (param $out i32) (param $n i32) (param $logSumExp f64) (param $weight f32)
    (local $i i32) (local $whole i32) (local $x v128) (local $shift v128) (local $scale v128) ${expLocals}
    ${expSetup}
    (local.set $shift (f64x2.splat (local.get $logSumExp)))
    (local.set $scale (f32x4.splat (local.get $weight)))
    (local.set $whole (i32.and (local.get $n) (i32.const -4)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $whole)))
      (local.set $x (v128.load ${at('$in', '$i')}))
      ${exp4(`(f32x4.min ${splat(0)} (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.sub (f64x2.promote_low_f32x4 (local.get $x)) (local.get $shift)))
        (f32x4.demote_f64x2_zero (f64x2.sub
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $x) (local.get $x)))
          (local.get $shift)))))`)}
      (v128.store ${at('$out', '$i')} (f32x4.mul (local.get $scale) (local.get $e)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $next)))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
      ${exp4(`(f32x4.min ${splat(0)} (f32x4.splat (f32.demote_f64 (f64.sub (f64.promote_f32 (f32.load ${at('$in', '$i')})) (local.get $logSumExp)))))`)}
      (f32.store ${at('$out', '$i')} (f32.mul (local.get $weight) (f32x4.extract_lane 0 (local.get $e))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next))))
)`;

const tsPath = new URL('../src/core/kernels/rowKernelsWasm.ts', import.meta.url);
const wabt = await wabtFactory();
const module = wabt.parseWat('rowKernels.wat', wat, { simd: true });
module.validate();
const { buffer } = module.toBinary({});
const base64 = Buffer.from(buffer).toString('base64');
const source = `// Generated by scripts/build-wasm.mjs (${buffer.length} bytes of WebAssembly). Do not edit.\n\n/** The core's SIMD row kernels: a WebAssembly module in base64. */\nexport const ROW_KERNELS_WASM = '${base64}';\n`;
if (process.argv.includes('--check')) {
  if (readFileSync(tsPath, 'utf8') !== source) {
    console.error('src/core/kernels/rowKernelsWasm.ts is stale: run `node scripts/build-wasm.mjs`');
    process.exit(1);
  }
  console.log('rowKernelsWasm.ts matches scripts/build-wasm.mjs');
} else {
  writeFileSync(tsPath, source);
  console.log(`wrote src/core/kernels/rowKernelsWasm.ts (${buffer.length} bytes of WebAssembly)`);
}
