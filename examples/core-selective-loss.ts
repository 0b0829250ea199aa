// Selective Language Modeling with the framework-agnostic core: per-token losses from logits,
// excess loss over a reference model, the top 60% of tokens, and the gradient for those only.
// Run: npm run demo   (or: npx tsx examples/core-selective-loss.ts)
import { createRandom, selectiveLoss, tokenLoss, tokenLossGrad } from 'rho-slm';

const B = 2; // sequences
const T = 8; // positions per sequence
const V = 50; // vocabulary
const random = createRandom(7);

// Logits [B·T, V] as any framework would hand them over (onnxruntime, transformers.js, …).
const logits = Float32Array.from({ length: B * T * V }, () => 4 * (random() - 0.5));
// Targets [B·T]; the last position of each sequence is padding (-100, as in PyTorch).
const labels = Int32Array.from({ length: B * T }, (_, i) =>
  i % T === T - 1 ? -100 : Math.floor(random() * V),
);
// Reference losses [B·T], computed once, offline, by a model trained on clean text.
const refLoss = Float32Array.from({ length: B * T }, () => 2 + 2 * random());

const modelLoss = tokenLoss(logits, labels);
const { loss, mask, weights, selected, total, threshold } = selectiveLoss({
  modelLoss,
  refLoss,
  labels,
  ratio: 0.6,
});
const gradLogits = tokenLossGrad(logits, labels, weights);

console.log(
  `tokens: ${total} valid of ${B * T}; selected ${selected} with excess loss ≥ ${threshold.toFixed(3)}`,
);
console.log(`mask:   ${Array.from(mask).join('')}`);
console.log(`SLM loss ${loss.toFixed(4)} nats over the selected tokens`);
const meanLoss = modelLoss.reduce((sum, l, i) => sum + (labels[i] === -100 ? 0 : l), 0) / total;
console.log(`plain CLM loss ${meanLoss.toFixed(4)} nats over all valid tokens`);
const gradNorm = Math.hypot(...gradLogits);
console.log(`‖∂L_SLM/∂logits‖ = ${gradNorm.toFixed(4)} (rows of unselected tokens are zero)`);
