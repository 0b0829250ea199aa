// AdamW's update on the native `tensorflow` backend (@tensorflow/tfjs-node, -gpu): each variable's
// weight and moments sit in TensorFlow resource variables and TensorFlow's fused ResourceApplyAdam
// kernel updates them in place, in one pass over weight, gradient and moments, where tensor ops take
// a dozen passes and allocate a new tensor for each. Clipping's scale and the decoupled decay are
// in place too, so an update allocates nothing the size of a weight.
import * as tf from '@tensorflow/tfjs';
import {
  activeNativeBackend,
  type NativeAttribute,
  type NativeBackend,
  type NativeTensorEntry,
  typeAttribute,
} from './nativeBackend.js';

/** The scalars of one AdamW step, made once per step and shared by every variable. */
export interface NativeStepScalars {
  /** `lr·√c₂/c₁` (bias corrections `cᵢ = 1 − βᵢᵗ`). */
  stepSize: number;
  beta1: number;
  beta2: number;
  /** `ε·√c₂`, so that `stepSize·m/(√v + ε√c₂) = lr·m̂/(√v̂ + ε)`. */
  epsilon: number;
  /** The factor every gradient is multiplied by (gradient clipping), 1 for none. */
  scale: number;
  /** The factor a decaying weight is multiplied by, `1 − lr·λ`. */
  decay: number;
}

/** The scalars of one AdamW step as native tensors, made once per step and shared by every variable. */
export class NativeAdamScalars {
  /** Native ids, in ResourceApplyAdam's order: β₁ power, β₂ power, lr, β₁, β₂, ε. */
  readonly adam: number[];
  /** Native ids of 0, the step's gradient scale and its decay factor. */
  readonly zero: number;
  readonly scale: number;
  readonly decay: number;
  /** Whether gradients are scaled this step (scale ≠ 1). */
  readonly scales: boolean;
  readonly #backend: NativeBackend;

  /** @param step - the step's scalars; the `tensorflow` backend must be active */
  constructor(step: NativeStepScalars) {
    this.#backend = activeNativeBackend()!;
    const binding = this.#backend.binding;
    const scalar = (value: number) => binding.createTensor([], binding.TF_FLOAT, Float32Array.of(value));
    // beta powers 0 make ResourceApplyAdam's own bias correction 1: the step size already holds it.
    this.adam = [0, 0, step.stepSize, step.beta1, step.beta2, step.epsilon].map(scalar);
    this.zero = scalar(0);
    this.scale = scalar(step.scale);
    this.decay = scalar(step.decay);
    this.scales = step.scale !== 1;
  }

  /** Frees the native tensors. */
  dispose(): void {
    for (const id of [...this.adam, this.zero, this.scale, this.decay])
      this.#backend.binding.deleteTensor(id);
  }
}

/** Whether {@link NativeAdamSlot} can run: the active backend is `tensorflow`. */
export function nativeAdamActive(): boolean {
  return activeNativeBackend() !== undefined;
}

/**
 * A zero-filled native buffer, and views of it in any shape that fits (TensorFlow's `Slice` of a
 * leading run and `Reshape` alias the buffer): the zero "gradient" that lets a momentum kernel
 * multiply a resource in place.
 */
export class NativeZeros {
  readonly #backend: NativeBackend;
  #flat: number | undefined;
  #capacity = 0;
  readonly #views = new Map<string, number>();

  /** The `tensorflow` backend must be active. */
  constructor() {
    this.#backend = activeNativeBackend()!;
  }

  /** Makes room for views of up to `size` elements (frees the views made so far when it grows). */
  reserve(size: number): void {
    if (size <= this.#capacity) return;
    this.dispose();
    const binding = this.#backend.binding;
    const dims = binding.createTensor([1], binding.TF_INT32, Int32Array.of(size));
    const zero = binding.createTensor([], binding.TF_FLOAT, Float32Array.of(0));
    try {
      this.#flat = binding.executeOp(
        'Fill',
        [floatType(this.#backend), typeAttribute(this.#backend, 'index_type', binding.TF_INT32)],
        [dims, zero],
        1,
      )[0]!.id;
      this.#capacity = size;
    } finally {
      binding.deleteTensor(dims);
      binding.deleteTensor(zero);
    }
  }

  /** A native id of zeros of `shape` (its size at most the reserved size); valid until `reserve` grows. */
  view(shape: number[]): number {
    const key = shape.join();
    const cached = this.#views.get(key);
    if (cached !== undefined) return cached;
    const binding = this.#backend.binding;
    const size = tf.util.sizeFromShape(shape);
    const int32 = (values: number[]) =>
      binding.createTensor([values.length], binding.TF_INT32, Int32Array.from(values));
    const inputs = [int32([0]), int32([size]), int32(shape)];
    const indexType = (name: string) => typeAttribute(this.#backend, name, binding.TF_INT32);
    try {
      const [slice] = binding.executeOp(
        'Slice',
        [floatType(this.#backend), indexType('Index')],
        [this.#flat!, inputs[0]!, inputs[1]!],
        1,
      );
      try {
        const [view] = binding.executeOp(
          'Reshape',
          [floatType(this.#backend), indexType('Tshape')],
          [slice!.id, inputs[2]!],
          1,
        );
        this.#views.set(key, view!.id);
        return view!.id;
      } finally {
        binding.deleteTensor(slice!.id);
      }
    } finally {
      for (const id of inputs) binding.deleteTensor(id);
    }
  }

  /** Frees the buffer and its views. */
  dispose(): void {
    const binding = this.#backend.binding;
    for (const id of this.#views.values()) binding.deleteTensor(id);
    this.#views.clear();
    if (this.#flat !== undefined) binding.deleteTensor(this.#flat);
    this.#flat = undefined;
    this.#capacity = 0;
  }
}

function floatType(backend: NativeBackend): NativeAttribute {
  return typeAttribute(backend, 'T', backend.binding.TF_FLOAT);
}

/** The attributes of TensorFlow's `ResourceApply*` optimizer kernels on float32. */
function applyAttributes(backend: NativeBackend): NativeAttribute[] {
  const flag = (name: string) => ({ name, type: backend.binding.TF_ATTR_BOOL, value: false });
  return [floatType(backend), flag('use_locking'), flag('use_nesterov')];
}

/** Resource names are unique per process: TensorFlow keys resource variables by name. */
let created = 0;

/**
 * One variable's AdamW state on the `tensorflow` backend: resource variables for the weight, the
 * two moments and (during an update) the gradient. Between updates the weight's resource and the
 * tfjs variable share one buffer; during an update the variable lets go of it, so TensorFlow
 * updates the buffer in place instead of copying it (its resources copy on write).
 */
export class NativeAdamSlot {
  /** The variable's shape. */
  readonly shape: number[];
  readonly #backend: NativeBackend;
  /** Native ids of the resource handles: weight, first moment, second moment, gradient. */
  readonly #handles: number[];

  /**
   * Creates the resources; the moments start from `moments` (restored state) or zeros.
   * The `tensorflow` backend must be active.
   */
  constructor(variable: tf.Variable, moments?: { first?: tf.Tensor; second?: tf.Tensor }) {
    this.#backend = activeNativeBackend()!;
    this.shape = variable.shape;
    const binding = this.#backend.binding;
    this.#handles = ['weight', 'first', 'second', 'gradient'].map((role) => {
      const [handle] = binding.executeOp(
        'VarHandleOp',
        [
          { name: 'container', type: binding.TF_ATTR_STRING, value: '' },
          { name: 'shared_name', type: binding.TF_ATTR_STRING, value: `rho_slm_adamw_${created}_${role}` },
          this.#dtype(),
          { name: 'shape', type: binding.TF_ATTR_SHAPE, value: this.shape },
        ],
        [],
        1,
      );
      return handle!.id;
    });
    created++;
    tf.tidy(() => {
      this.#assign(1, moments?.first ?? tf.zerosLike(variable));
      this.#assign(2, moments?.second ?? tf.zerosLike(variable));
    });
  }

  /**
   * One AdamW update of `variable` with `gradient`, in TensorFlow's arithmetic and in place:
   * `g ← scale·g`, then (when `decays`) `w ← decay·w`, then `m += (g − m)(1 − β₁)`,
   * `v += (g² − v)(1 − β₂)`, `w ← w − stepSize·m/(√v + ε)`. The multiplications are exact
   * float32 products, as `tf.mul` gives. With `owned`, the caller gives up `gradient`: its buffer
   * is scaled in place and freed here (the caller still disposes the tfjs tensor).
   */
  update(
    variable: tf.Variable,
    gradient: tf.Tensor,
    owned: boolean,
    decays: boolean,
    scalars: NativeAdamScalars,
    zeros: NativeZeros,
  ): void {
    const binding = this.#backend.binding;
    const [weight, first, second, scratch] = this.#handles as [number, number, number, number];
    const local = this.#local(gradient);
    this.#assignId(scratch, this.#nativeId(local));
    if (local !== gradient) local.dispose();
    else if (owned) this.#letGo(gradient);
    this.#assignId(weight, this.#nativeId(variable));
    const detached = this.#letGo(variable);
    try {
      if (scalars.scales) this.#multiply(scratch, scalars.scale, scalars.zero, zeros);
      if (decays) this.#multiply(weight, scalars.decay, scalars.zero, zeros);
      const [value] = binding.executeOp('ReadVariableOp', [this.#dtype()], [scratch], 1);
      try {
        binding.executeOp(
          'ResourceApplyAdam',
          applyAttributes(this.#backend),
          [weight, first, second, ...scalars.adam, value!.id],
          0,
        );
      } finally {
        binding.deleteTensor(value!.id);
      }
    } finally {
      this.#destroy(scratch); // frees the gradient
      const [read] = binding.executeOp('ReadVariableOp', [this.#dtype()], [weight], 1);
      if (detached !== undefined)
        detached.id = read!.id; // the variable shares the resource's buffer
      else {
        const updated = this.#backend.createOutputTensor(read!);
        variable.assign(updated);
        updated.dispose();
      }
    }
  }

  /** One moment, copied to the host (readable whichever backend is active now). */
  moment(which: 'first' | 'second'): Float32Array {
    const binding = this.#backend.binding;
    const index = which === 'first' ? 1 : 2;
    const [value] = binding.executeOp('ReadVariableOp', [this.#dtype()], [this.#handles[index]!], 1);
    try {
      return Float32Array.from(binding.tensorDataSync(value!.id));
    } finally {
      binding.deleteTensor(value!.id);
    }
  }

  /** Destroys the resources. */
  dispose(): void {
    for (const handle of this.#handles) {
      this.#destroy(handle);
      this.#backend.binding.deleteTensor(handle);
    }
  }

  /**
   * `resource ← factor·resource`, exactly, in place: a momentum kernel with zero gradient and zero
   * learning rate (`accum ← accum·momentum + 0`; its `var −= 0·accum` leaves the second moment,
   * which stands in as `var`, unchanged).
   */
  #multiply(resource: number, factor: number, zero: number, zeros: NativeZeros): void {
    const binding = this.#backend.binding;
    binding.executeOp(
      'ResourceApplyMomentum',
      applyAttributes(this.#backend),
      [this.#handles[2]!, resource, zero, zeros.view(this.shape), factor],
      0,
    );
  }

  /**
   * Drops the native reference a tfjs tensor holds, when it is the only tfjs tensor on its data;
   * returns its entry (whose `id` the caller sets again) or `undefined` when it is shared.
   */
  #letGo(tensor: tf.Tensor): NativeTensorEntry | undefined {
    const entry = this.#backend.tensorMap.get(tensor.dataId);
    if (entry === undefined || entry.refCount !== 1 || entry.id < 0) return undefined;
    this.#backend.binding.deleteTensor(entry.id);
    entry.id = -1;
    return entry;
  }

  #destroy(handle: number): void {
    const binding = this.#backend.binding;
    binding.executeOp(
      'DestroyResourceOp',
      [{ name: 'ignore_lookup_error', type: binding.TF_ATTR_BOOL, value: true }],
      [handle],
      0,
    );
  }

  #dtype(): NativeAttribute {
    return typeAttribute(this.#backend, 'dtype', this.#backend.binding.TF_FLOAT);
  }

  /** `tensor`, or a copy of it on this backend when another backend holds its data. */
  #local(tensor: tf.Tensor): tf.Tensor {
    return this.#backend.tensorMap.has(tensor.dataId) ? tensor : tf.clone(tensor);
  }

  #nativeId(tensor: tf.Tensor): number {
    return this.#backend.getInputTensorIds([tensor])[0]!;
  }

  /** Points resource `index` at `value`'s buffer (shared, not copied; `value` may be disposed after). */
  #assign(index: number, value: tf.Tensor): void {
    const local = this.#local(value);
    this.#assignId(this.#handles[index]!, this.#nativeId(local));
    if (local !== value) local.dispose();
  }

  /** Points resource `handle` at native tensor `id`'s buffer (shared, not copied). */
  #assignId(handle: number, id: number): void {
    const binding = this.#backend.binding;
    binding.executeOp(
      'AssignVariableOp',
      [this.#dtype(), { name: 'validate_shape', type: binding.TF_ATTR_BOOL, value: false }],
      [handle, id],
      0,
    );
  }
}
