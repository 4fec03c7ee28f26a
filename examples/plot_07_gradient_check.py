"""
The gradient check, made visible
================================

Backpropagation is the part of a from-scratch network that is easiest to get
subtly wrong, and a finite-difference check is how to catch it: nudge each
parameter ``w_j`` by ``±eps``, recompute the objective and compare

.. math:: \\frac{J(w + \\epsilon e_j) - J(w - \\epsilon e_j)}{2\\epsilon}

with the backpropagated ``dJ/dw_j``. :func:`sknumpynet.nn.check_gradients`
does this for an :class:`~sknumpynet.nn.MLP`; the test suite runs it on every
activation and head. Here it is drawn for a small network.
"""

# %%
# A small network
# ---------------
# Two hidden layers (tanh, then leaky relu), a softmax head, sample weights
# and an L2 penalty: every term of the objective takes part. float64, since
# float32 cannot resolve steps of ``1e-6``.
import numpy as np

from sknumpynet.nn import MLP, check_gradients, numerical_gradient

rng = np.random.default_rng(0)
net = MLP([6, 5, 4, 3], ["tanh", "leaky_relu"], "softmax", dtype=np.float64)
net.initialize("xavier", rng)
net.params[net.n_weights :] = rng.normal(scale=0.1, size=net.params.size - net.n_weights)
X = rng.standard_normal((20, 6))
Y = np.eye(3)[rng.integers(0, 3, size=20)]
weights = rng.uniform(0.5, 2.0, size=20)

analytic, numeric, rel_error = check_gradients(net, X, Y, sample_weight=weights, alpha=0.1)


def relative_error(a, b):
    """The measure of ``check_gradients``: ``||a - b|| / (||a|| + ||b||)``."""
    return np.linalg.norm(a - b) / (np.linalg.norm(a) + np.linalg.norm(b))


print(f"{net.params.size} parameters, relative error {rel_error:.2e}")

# %%
# Analytic against numerical, parameter by parameter
# --------------------------------------------------
# Every point lies on the diagonal; the right panel shows the absolute
# difference of each parameter, eight to nine orders of magnitude below the
# gradients themselves.
import matplotlib.pyplot as plt

fig, (ax_scatter, ax_diff) = plt.subplots(1, 2, figsize=(10, 4))
layer_of = np.concatenate(
    [np.full(W.size, i) for i, W in enumerate(net.coefs)]
    + [np.full(b.size, i) for i, b in enumerate(net.intercepts)]
)
for layer in range(net.n_layers):
    mask = layer_of == layer
    ax_scatter.scatter(analytic[mask], numeric[mask], s=12, label=f"layer {layer + 1}")
    ax_diff.semilogy(np.flatnonzero(mask), np.abs(analytic - numeric)[mask], ".")
lim = np.abs(analytic).max() * 1.1
ax_scatter.plot([-lim, lim], [-lim, lim], "k", lw=0.5)
ax_scatter.set(xlabel="backpropagation", ylabel="central differences", title="dJ/dw")
ax_scatter.legend()
ax_diff.axvline(net.n_weights - 0.5, color="grey", ls=":")
ax_diff.set(
    xlabel="parameter index (weights, then biases)",
    ylabel="|difference|",
    title="Absolute difference",
)
fig.tight_layout()

# %%
# Choosing eps
# ------------
# Too large a step measures the curvature of ``J`` (the error of central
# differences falls as ``eps**2``); too small a step drowns in rounding error
# (which grows as ``1 / eps``). The sweet spot in float64 lies near
# ``eps = 1e-5``, where the relative error reaches about ``1e-10``. The jump
# at larger steps is the leaky relu: a step that large moves some units
# across their kink at zero, where the derivative changes abruptly and no
# finite difference can follow it.
eps_values = np.logspace(-10, -1, 19)
errors = []
for eps in eps_values:
    numeric_eps = numerical_gradient(net, X, Y, sample_weight=weights, alpha=0.1, eps=eps)
    errors.append(relative_error(analytic, numeric_eps))

fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(eps_values, errors, "o-")
ax.set(xlabel="eps", ylabel="relative error", title="Gradient check error against step size")
plt.show()

# %%
# A bug it would catch
# --------------------
# Forgetting the L2 term in the gradient (a classic slip) is invisible in the
# loss curve of a short run, but not to the check:
buggy = analytic.copy()
buggy[: net.n_weights] -= 0.1 / weights.sum() * net.params[: net.n_weights]
print(f"relative error with the L2 gradient left out: {relative_error(buggy, numeric):.2e}")
