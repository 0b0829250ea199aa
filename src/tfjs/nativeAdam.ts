// AdamW's update on the native `tensorflow` backend (@tensorflow/tfjs-node, -gpu): each variable's
// weight and moments sit in TensorFlow resource variables and TensorFlow's fused ResourceApplyAdam
// kernel updates them in place, in one pass over weight, gradient and moments, where tensor ops take
// a dozen passes and allocate a new tensor for each.
import * as tf from '@tensorflow/tfjs';
import { activeNativeBackend, type NativeAttribute, type NativeBackend } from './nativeBackend.js';

/** The scalars of one AdamW step as native tensors, made once per step and shared by every variable. */
export class NativeAdamScalars {
  /** Native ids, in ResourceApplyAdam's order: β₁ power, β₂ power, lr, β₁, β₂, ε. */
  readonly ids: number[];
  readonly #backend: NativeBackend;

  /**
   * @param step - `stepSize` = `lr·√c₂/c₁` (bias corrections `cᵢ = 1 − βᵢᵗ`) and `epsilon` = `ε·√c₂`,
   *   so that `stepSize·m/(√v + ε√c₂) = lr·m̂/(√v̂ + ε)`; the `tensorflow` backend must be active
   */
  constructor(step: { stepSize: number; beta1: number; beta2: number; epsilon: number }) {
    this.#backend = activeNativeBackend()!;
    const binding = this.#backend.binding;
    // beta powers 0 make ResourceApplyAdam's own bias correction 1: the step size already holds it.
    this.ids = [0, 0, step.stepSize, step.beta1, step.beta2, step.epsilon].map((value) =>
      binding.createTensor([], binding.TF_FLOAT, Float32Array.of(value)),
    );
  }

  /** Frees the native tensors. */
  dispose(): void {
    for (const id of this.ids) this.#backend.binding.deleteTensor(id);
  }
}

/** Whether {@link NativeAdamSlot} can run: the active backend is `tensorflow`. */
export function nativeAdamActive(): boolean {
  return activeNativeBackend() !== undefined;
}

/** Resource names are unique per process: TensorFlow keys resource variables by name. */
let created = 0;

/**
 * One variable's AdamW state on the `tensorflow` backend: resource variables for the weight and the
 * two moments. The weight's resource and the tfjs variable share one buffer between updates, so an
 * update copies nothing (a non-decaying weight is copied once, by TensorFlow's copy-on-write).
 */
export class NativeAdamSlot {
  /** The variable's shape. */
  readonly shape: number[];
  readonly #backend: NativeBackend;
  /** Native ids of the resource handles: weight, first moment, second moment. */
  readonly #handles: number[];

  /**
   * Creates the resources; the moments start from `moments` (restored state) or zeros.
   * The `tensorflow` backend must be active.
   */
  constructor(variable: tf.Variable, moments?: { first?: tf.Tensor; second?: tf.Tensor }) {
    this.#backend = activeNativeBackend()!;
    this.shape = variable.shape;
    const binding = this.#backend.binding;
    this.#handles = ['weight', 'first', 'second'].map((role) => {
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
   * One AdamW update of `variable` with `gradient`, in TensorFlow's arithmetic:
   * `m += (g − m)(1 − β₁)`, `v += (g² − v)(1 − β₂)`, `w ← decay·w − stepSize·m/(√v + ε)`;
   * `decay` is `1 − lr·λ`, or `undefined` for a variable that does not decay.
   */
  update(
    variable: tf.Variable,
    gradient: tf.Tensor,
    scalars: NativeAdamScalars,
    decay: number | undefined,
  ): void {
    const binding = this.#backend.binding;
    const decayed = decay === undefined ? variable : tf.mul(variable, decay);
    this.#assign(0, decayed);
    if (decayed !== variable) decayed.dispose(); // the resource holds the only reference: updated in place
    const local = this.#local(gradient);
    try {
      binding.executeOp(
        'ResourceApplyAdam',
        [
          { name: 'T', type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT },
          { name: 'use_locking', type: binding.TF_ATTR_BOOL, value: false },
          { name: 'use_nesterov', type: binding.TF_ATTR_BOOL, value: false },
        ],
        [...this.#handles, ...scalars.ids, this.#nativeId(local)],
        0,
      );
    } finally {
      if (local !== gradient) local.dispose();
    }
    const [read] = binding.executeOp('ReadVariableOp', [this.#dtype()], [this.#handles[0]!], 1);
    const updated = this.#backend.createOutputTensor(read!); // shares the resource's buffer
    variable.assign(updated);
    updated.dispose();
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
    const binding = this.#backend.binding;
    for (const handle of this.#handles) {
      binding.executeOp(
        'DestroyResourceOp',
        [{ name: 'ignore_lookup_error', type: binding.TF_ATTR_BOOL, value: true }],
        [handle],
        0,
      );
      binding.deleteTensor(handle);
    }
  }

  #dtype(): NativeAttribute {
    return { name: 'dtype', type: this.#backend.binding.TF_ATTR_TYPE, value: this.#backend.binding.TF_FLOAT };
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
    const binding = this.#backend.binding;
    const local = this.#local(value);
    binding.executeOp(
      'AssignVariableOp',
      [this.#dtype(), { name: 'validate_shape', type: binding.TF_ATTR_BOOL, value: false }],
      [this.#handles[index]!, this.#nativeId(local)],
      0,
    );
    if (local !== value) local.dispose();
  }
}
