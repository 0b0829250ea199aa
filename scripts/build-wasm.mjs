// Writes the project's WebAssembly SIMD modules, each assembled from the text below and stored as
// base64 in a TypeScript file, so the published package has no runtime dependency:
// src/core/kernels/rowKernelsWasm.ts (the core's row kernels) and src/model/kernels/zigguratWasm.ts
// (the ziggurat sampler's rounds). `--check` fails when a committed file differs from what this
// script produces.
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

/** Byte offsets in the ziggurat module's memory, and the most rounds a call takes: exported as globals. */
const Z = { kn: 0, wn: 1024, state: 3072, out: 4096, list: 4096 + 4 * 4 * 16384, chunk: 16384 };

/** The four lanes' next words from xoshiro128** states $a $b $c $d (each lane one stream), into $w. */
const xoshiro4 = `
      (local.set $s (i32x4.mul (local.get $b) (v128.const i32x4 5 5 5 5)))
      (local.set $w (i32x4.mul (v128.or (i32x4.shl (local.get $s) (i32.const 7)) (i32x4.shr_u (local.get $s) (i32.const 25)))
                               (v128.const i32x4 9 9 9 9)))
      (local.set $t (i32x4.shl (local.get $b) (i32.const 9)))
      (local.set $c (v128.xor (local.get $c) (local.get $a)))
      (local.set $d (v128.xor (local.get $d) (local.get $b)))
      (local.set $b (v128.xor (local.get $b) (local.get $c)))
      (local.set $a (v128.xor (local.get $a) (local.get $d)))
      (local.set $c (v128.xor (local.get $c) (local.get $t)))
      (local.set $d (v128.or (i32x4.shl (local.get $d) (i32.const 11)) (i32x4.shr_u (local.get $d) (i32.const 21))))`;
const layer = (lane) =>
  `(local.set $l${lane} (i32.and (i32x4.extract_lane ${lane} (local.get $w)) (i32.const 255)))`;
const kn = (lane) => `(i32.load offset=${Z.kn} (i32.shl (local.get $l${lane}) (i32.const 2)))`;
const wn = (lane) => `(f64.load offset=${Z.wn} (i32.shl (local.get $l${lane}) (i32.const 3)))`;

const zigguratWat = `
(module
  (memory (export "memory") 13)
  ${Object.entries(Z)
    .map(([name, value]) => `(global (export "${name}") i32 (i32.const ${value}))`)
    .join('\n  ')}

  ;; $rounds rounds of the 4-lane ziggurat (src/model/ziggurat.ts) into float32s at ${Z.out}: each
  ;; round steps every lane's stream once and writes sd·(w·wn[w & 255]) for lanes 0-3. The rounds
  ;; where some word is outside its layer's rectangle (|w| ≥ kn[w & 255], about 6 % of rounds) are
  ;; listed at ${Z.list}, 32 bytes each: the round's index, then its four words at +16, for the
  ;; caller to redo those lanes in scalar code. The lanes' states are at ${Z.state}, one vector
  ;; per state word. Returns how many rounds were listed.
  (func (export "rounds") (param $rounds i32) (param $sd f64) (result i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128) (local $s v128) (local $w v128) (local $t v128)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32) (local $sds v128) (local $i i32) (local $listed i32)
    (local.set $a (v128.load offset=${Z.state} (i32.const 0))) (local.set $b (v128.load offset=${Z.state + 16} (i32.const 0)))
    (local.set $c (v128.load offset=${Z.state + 32} (i32.const 0))) (local.set $d (v128.load offset=${Z.state + 48} (i32.const 0)))
    (local.set $sds (f64x2.splat (local.get $sd)))
    (block $done (loop $round
      (br_if $done (i32.ge_u (local.get $i) (local.get $rounds)))
      ${xoshiro4}
      ${[0, 1, 2, 3].map(layer).join('\n      ')}
      (if (i32.eqz (i32x4.all_true (i32x4.lt_u (i32x4.abs (local.get $w))
            (i32x4.replace_lane 3 (i32x4.replace_lane 2 (i32x4.replace_lane 1 (i32x4.splat ${kn(0)}) ${kn(1)}) ${kn(2)}) ${kn(3)}))))
        (then
          (i32.store offset=${Z.list} (i32.shl (local.get $listed) (i32.const 5)) (local.get $i))
          (v128.store offset=${Z.list + 16} (i32.shl (local.get $listed) (i32.const 5)) (local.get $w))
          (local.set $listed (i32.add (local.get $listed) (i32.const 1)))))
      (v128.store offset=${Z.out} (i32.shl (local.get $i) (i32.const 4)) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23
        (f32x4.demote_f64x2_zero (f64x2.mul (local.get $sds) (f64x2.mul (f64x2.convert_low_i32x4_s (local.get $w))
          (f64x2.replace_lane 1 (f64x2.splat ${wn(0)}) ${wn(1)}))))
        (f32x4.demote_f64x2_zero (f64x2.mul (local.get $sds) (f64x2.mul
          (f64x2.convert_low_i32x4_s (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $w) (local.get $w)))
          (f64x2.replace_lane 1 (f64x2.splat ${wn(2)}) ${wn(3)}))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $round)))
    (v128.store offset=${Z.state} (i32.const 0) (local.get $a)) (v128.store offset=${Z.state + 16} (i32.const 0) (local.get $b))
    (v128.store offset=${Z.state + 32} (i32.const 0) (local.get $c)) (v128.store offset=${Z.state + 48} (i32.const 0) (local.get $d))
    (local.get $listed))
)`;

const modules = [
  {
    wat,
    file: 'src/core/kernels/rowKernelsWasm.ts',
    name: 'ROW_KERNELS_WASM',
    what: "The core's SIMD row kernels",
  },
  {
    wat: zigguratWat,
    file: 'src/model/kernels/zigguratWasm.ts',
    name: 'ZIGGURAT_WASM',
    what: "The ziggurat sampler's SIMD rounds",
  },
];
const wabt = await wabtFactory();
let stale = false;
for (const { wat: text, file, name, what } of modules) {
  const module = wabt.parseWat(file, text, { simd: true });
  module.validate();
  const { buffer } = module.toBinary({});
  const base64 = Buffer.from(buffer).toString('base64');
  const source = `// Generated by scripts/build-wasm.mjs (${buffer.length} bytes of WebAssembly). Do not edit.\n\n/** ${what}: a WebAssembly module in base64. */\nexport const ${name} = '${base64}';\n`;
  const path = new URL(`../${file}`, import.meta.url);
  if (process.argv.includes('--check')) {
    if (readFileSync(path, 'utf8') !== source) {
      console.error(`${file} is stale: run \`node scripts/build-wasm.mjs\``);
      stale = true;
    } else console.log(`${file} matches scripts/build-wasm.mjs`);
  } else {
    writeFileSync(path, source);
    console.log(`wrote ${file} (${buffer.length} bytes of WebAssembly)`);
  }
}
if (stale) process.exit(1);
