"""Ternary quantization methods of the literature beyond absmean / TWN / TTQ (issue 14).

Each module cites its paper and says what it implements and what it simplifies; the same text,
longer, is in ``docs/quantization.md``.

Post-training (NumPy only, any model):

``btq``             HitNet's Bernoulli ternary quantization (stochastic, unbiased)
``tequila``         dead-zone-trapped weights reactivated as a per-channel bias
``gptq``            layer-wise error compensation on calibration data (GPTQ-style)

Training (need the ``train`` extra, ``pip install 'ternhw[train]'``, i.e. ``jax`` on CPU):

``hyperspherical``  regulariser toward ternary + re-scaled straight-through gradient
``stq``             Smart Ternary Quantization: per-layer binary or ternary, chosen by training
``admm``            ADMM with decoupled continuous / discrete weights
``mlq``             incremental layer-wise quantization with compensation by later layers
``rmsnorm``         an extra RMSNorm before every ternary linear + gradual quantization
``features``        ternary activations (2-bit on the array)

``ternhw.quant.methods.digits`` runs every method on the digits MLP and
``ternhw.quant.methods.table`` turns the results into the method x hardware table
(``ternhw methods``).
"""
