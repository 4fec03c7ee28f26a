"""The multi-layer perceptron: parameters, forward pass and backpropagation.

Notation for a network with layer sizes ``n_0 (features), n_1, ..., n_L
(outputs)`` and a batch of ``m`` samples:

* ``A_0 = X`` of shape ``(m, n_0)``;
* ``Z_l = A_{l-1} W_l + b_l`` with ``W_l`` of shape ``(n_{l-1}, n_l)``;
* ``A_l = f_l(Z_l)`` for hidden layers, and the head turns ``Z_L`` into ``P``.

The objective of a batch with sample weights ``s_i`` (all 1 by default) is::

    J = sum_i s_i loss_i / S + alpha / (2 S) * sum_l ||W_l||^2,   S = sum_i s_i

and backpropagation gives, with ``D_L = diag(s / S) (P - Y)``::

    dJ/dW_l = A_{l-1}^T D_l + (alpha / S) W_l      dJ/db_l = sum_i D_l[i]
    D_{l-1} = (D_l W_l^T) * f'_{l-1}               (f' taken from A_{l-1})

All weights and biases live in one contiguous vector ``params`` (every weight
matrix first, then every bias) with per-layer views, so an optimizer updates
the whole network with a few ufunc calls and the L2 term touches one slice.

``X`` may be a SciPy sparse matrix (CSR for batches of rows): only the first
layer's products touch it, as sparse x dense products, so it is never densified.

Dropout (training only, when :meth:`MLP.loss_grad` is given a generator): a
hidden layer with rate ``p > 0`` passes on ``H_l = A_l * M_l`` instead of
``A_l``, where ``M_l`` holds ``1 / (1 - p)`` with probability ``1 - p`` and ``0``
otherwise (inverted dropout: ``E[H_l] = A_l``, so prediction uses ``A_l``
unchanged).  ``H_l`` replaces ``A_l`` in ``Z_{l+1}`` and ``dJ/dW_{l+1}``, and::

    D_l = ((D_{l+1} W_{l+1}^T) * M_l) * f'_l      (f' still taken from A_l)
"""

import numpy as np
from scipy.sparse import issparse

from . import checks
from .checks import DTYPES, batch_shape_error, check_total, check_weights, hidden_activations
from .heads import HEADS
from .initializers import INIT_OPTIONS, INITIALIZERS, resolve_init
from .memory import aligned_empty, aligned_zeros
from .registry import lookup


def _views(flat, shapes):
    """Split ``flat`` into consecutive views of the given shapes."""
    views, start = [], 0
    for shape in shapes:
        stop = start + int(np.prod(shape))
        views.append(flat[start:stop].reshape(shape))
        start = stop
    return views


class MLP:
    """A dense feed-forward network with a fused output head.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_features, n_hidden_1, ..., n_outputs)``.
    activations : sequence of str
        One key of :data:`~sknumpynet.nn.activations.ACTIVATIONS` per hidden
        layer (``len(layer_sizes) - 2`` names).
    head : str
        Key of :data:`~sknumpynet.nn.heads.HEADS`.
    dtype : {np.float32, np.float64}, default=np.float64
        Floating dtype of parameters and all computation; only these two, the
        ones the estimators train in (float16 lacks the range of the loss
        sums, integers cannot hold the drawn weights).
    dropout : float or sequence of float, optional
        Dropout rate in ``[0, 1)`` of every hidden layer (a float) or of each
        one (a sequence); None means none.  Applied only by :meth:`loss_grad`
        when it is given a generator.

    Attributes
    ----------
    params : ndarray of shape (n_params,)
        Every weight, then every bias.
    coefs : list of ndarray
        Views of ``params``; ``coefs[l]`` has shape ``(n_l, n_{l+1})``.
    intercepts : list of ndarray
        Views of ``params``; ``intercepts[l]`` has shape ``(n_{l+1},)``.
    n_weights : int
        Length of the leading slice of ``params`` that holds the weights.
    dropout : list of float
        One rate per hidden layer (zeros without dropout).

    Raises
    ------
    ValueError
        If ``layer_sizes`` has fewer than 2 entries or one that is not an int
        >= 1; if ``activations`` has not one name per hidden layer or a name
        that is not a key of ``ACTIVATIONS``; if ``head`` is not a key of
        ``HEADS``; if ``dtype`` is not float32 or float64; if a dropout rate
        is not in ``[0, 1)``; if the network has too many parameters for one
        array.
    """

    def __init__(self, layer_sizes, activations, head, dtype=np.float64, dropout=None):
        self.layer_sizes = checks.layer_sizes(layer_sizes)
        n_hidden = len(self.layer_sizes) - 2
        self.activations = hidden_activations(activations, n_hidden)
        self.activation_names = list(activations)
        self.head_name = head
        self.head = lookup(HEADS, head, "head")
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be float32 or float64; got {dtype!r}.")
        self.dropout = checks.dropout_rates(dropout, n_hidden)
        pairs = list(zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True))
        self._shapes = [pair for pair in pairs] + [(n_out,) for _, n_out in pairs]
        self.n_weights = sum(n_in * n_out for n_in, n_out in pairs)
        n_params = self.n_weights + sum(n_out for _, n_out in pairs)
        if n_params * self.dtype.itemsize >= np.iinfo(np.intp).max // 2:
            # Python ints do not overflow; numpy's sizes would, with no clear message.
            raise ValueError(
                f"layer_sizes {tuple(self.layer_sizes)} make {n_params} parameters, more than "
                "one array can hold."
            )
        self.params = aligned_zeros(n_params, self.dtype)
        self.coefs, self.intercepts = self.unpack(self.params)
        self._workspace = None
        self.last_penalty = 0.0  # the L2 term of the last objective computed

    @property
    def n_layers(self):
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    def unpack(self, flat):
        """Per-layer views of a flat vector laid out like ``params``.

        Parameters
        ----------
        flat : ndarray of shape (n_params,)
            Every weight, then every bias, in the order of ``params``.

        Returns
        -------
        coefs : list of ndarray
            Views of ``flat``; ``coefs[l]`` has shape ``(n_l, n_{l+1})``.
        intercepts : list of ndarray
            Views of ``flat``; ``intercepts[l]`` has shape ``(n_{l+1},)``.
        """
        views = _views(flat, self._shapes)
        return views[: self.n_layers], views[self.n_layers :]

    def initialize(self, init, rng):
        """Draw the weights (and biases) of each layer in turn with ``init``.

        Biases start at zero unless the initializer draws them.

        Parameters
        ----------
        init : str
            ``"auto"`` or a key of :data:`~sknumpynet.nn.initializers.INITIALIZERS`.
        rng : numpy.random.Generator
            Source of every draw, layer by layer from the first.

        Raises
        ------
        ValueError
            If ``init`` is neither ``"auto"`` nor a key of ``INITIALIZERS``
            (the weights are then left as they were).
        """
        if init not in INIT_OPTIONS:
            raise ValueError(f"init: unknown {init!r}; one of {sorted(INIT_OPTIONS)}.")
        self.params[...] = 0
        followers = [*self.activations, self.head]
        for layer, (W, b) in enumerate(zip(self.coefs, self.intercepts, strict=True)):
            around = followers[max(layer - 1, 0) : layer + 1]
            logistic = any(getattr(act, "logistic", False) for act in around)
            INITIALIZERS[resolve_init(init, followers[layer])](W, b, rng, logistic)

    def set_params(self, coefs, intercepts):
        """Copy per-layer arrays into ``params`` (e.g. after unpickling).

        The values are copied into the existing views (cast to the network's
        dtype): ``params``, ``coefs`` and ``intercepts`` stay the same arrays.

        Parameters
        ----------
        coefs : list of array-like
            One per layer, ``coefs[l]`` of shape ``(n_l, n_{l+1})``.
        intercepts : list of array-like
            One per layer, ``intercepts[l]`` of shape ``(n_{l+1},)``.
        """
        for view, value in zip(self.coefs + self.intercepts, coefs + intercepts, strict=True):
            view[...] = value

    def use_params(self, flat):
        """Make ``flat`` the network's ``params`` (and ``coefs``, ``intercepts`` its views).

        The arrays it held before are left as they are, so a caller can train
        a working copy and keep the previous weights untouched.

        Parameters
        ----------
        flat : ndarray of shape (n_params,)
            In the network's dtype, C-contiguous; used, not copied.
        """
        if flat.shape != self.params.shape or flat.dtype != self.dtype:
            raise ValueError(
                f"params must have shape {self.params.shape} and dtype {self.dtype}; "
                f"got {flat.shape} {flat.dtype}."
            )
        self.params = flat
        self.coefs, self.intercepts = self.unpack(flat)

    def add_penalty(self, grad, data_loss, total, alpha):
        """Add the L2 term to a data gradient; return the objective ``J``.

        For a gradient summed over several passes (a full batch in chunks):
        ``grad`` holds ``dJ_data/dparams`` already divided by ``total``.

        Parameters
        ----------
        grad : ndarray of shape (n_params,)
            Updated in place: ``grad[:n_weights] += alpha / total * W``.
        data_loss : float
            ``sum_i s_i loss_i``.
        total : float
            ``S = sum_i s_i``.
        alpha : float
            L2 penalty on the weights (not the biases); 0 adds nothing.

        Returns
        -------
        float
            ``J`` as in the module docstring.
        """
        if alpha:
            n_w = self.n_weights
            # Into the batch workspace's buffer where there is one: no allocation per batch.
            out = None if self._workspace is None else self._workspace["penalty"]
            grad[:n_w] += np.multiply(self.params[:n_w], alpha / total, out=out)
        return self._objective(data_loss, total, alpha)

    def logits(self, X):
        """Output-layer pre-activations for ``X``; allocates, never mutates.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (n_samples, n_features)
            Input rows.

        Returns
        -------
        ndarray of shape (n_samples, n_outputs)
            The logits, before the head's output function.
        """
        return forward_logits(X, self.coefs, self.intercepts, self.activation_names)

    # ---- training -------------------------------------------------------

    def _check_batch(self, X, Y, sample_weight):
        """The batch's row count; a ValueError if the shapes do not fit the network.

        Runs on every batch, so it compares shapes only (a few tuple
        comparisons): NumPy would otherwise broadcast a ``Y`` of shape
        ``(m,)`` or ``(1, n_outputs)`` against the logits and return a wrong
        loss without a word.
        """
        sizes = self.layer_sizes
        try:  # free unless raised; an X of another ndim fails the unpacking
            m, n_in = X.shape
            fits = (
                n_in == sizes[0]
                and m
                and Y.shape == (m, sizes[-1])
                and (sample_weight is None or sample_weight.shape == (m,))
            )
        except (AttributeError, ValueError):
            fits = False
        if not fits:
            raise batch_shape_error(X, Y, sample_weight, sizes[0], sizes[-1])
        return m

    def _buffers(self, m):
        """Activation and delta buffers for batches of up to ``m`` rows, reused.

        Every batch of a fit writes into the same arrays, so training allocates
        nothing per batch beyond a few small temporaries of the activations.
        """
        ws = self._workspace
        if ws is None or ws["rows"] < m or ws["rates"] != self.dropout:
            sizes = self.layer_sizes[1:]
            drop = list(zip(sizes[:-1], self.dropout, strict=True))
            ws = self._workspace = {
                "rows": m,
                "rates": list(self.dropout),
                "A": [aligned_empty((m, n), self.dtype) for n in sizes],
                "D": [aligned_empty((m, n), self.dtype) for n in sizes[:-1]],
                # Bias gradients as ones @ delta: one GEMV, faster than
                # delta.sum(axis=0) on batches of a few hundred rows.
                "ones": np.ones(m, dtype=self.dtype),
                "penalty": aligned_empty(self.n_weights, self.dtype),
                "grad": (None, None, None),
                # Per dropped layer: its mask M and the dropped output H = A * M
                # (the next layer's input); A itself stays intact for f'.
                "M": [aligned_empty((m, n), self.dtype) if p > 0 else None for n, p in drop],
                "H": [aligned_empty((m, n), self.dtype) if p > 0 else None for n, p in drop],
            }
        return ws

    def _grad_views(self, ws, grad):
        # Trainer passes the same vector every batch: slice it once, not per batch.
        if ws["grad"][0] is not grad:
            ws["grad"] = (grad, *self.unpack(grad))
        return ws["grad"][1:]

    def loss_grad(self, X, Y, grad, sample_weight=None, alpha=0.0, rng=None):
        """Objective ``J`` of one batch; fills ``grad`` with ``dJ/dparams``.

        Parameters
        ----------
        X : ndarray of shape (m, n_features)
            Batch inputs, dtype ``self.dtype``.
        Y : ndarray of shape (m, n_outputs)
            Encoded targets (see the head's ``encode``).
        grad : ndarray of shape (n_params,)
            Overwritten with the gradient, laid out like ``params``.
        sample_weight : ndarray of shape (m,), optional
            Non-negative weights with a positive sum; None means all ones.
            Only the sum is checked here (this runs on every batch); that no
            weight is negative is the caller's to ensure, as
            :meth:`Trainer.epoch <sknumpynet.nn.training.Trainer.epoch>` does
            once per call.
        alpha : float, default=0.0
            L2 penalty on the weights (not the biases).
        rng : numpy.random.Generator or list of Generator, optional
            Source of the dropout masks, drawn layer by layer in order (or, a
            list, one generator per hidden layer); None (or every rate 0)
            means no dropout.  ``J`` and ``grad`` are then those of the
            network thinned by the drawn masks.

        Returns
        -------
        float
            ``J`` as in the module docstring.

        Raises
        ------
        ValueError
            If ``X`` has no rows or not ``n_features`` columns, ``Y`` is not of
            shape ``(m, n_outputs)``, ``sample_weight`` not of shape ``(m,)``,
            or the weights' sum is not positive.
        """
        m = self._check_batch(X, Y, sample_weight)
        ws = self._buffers(m)
        full = m == ws["rows"]
        A = ws["A"] if full else [a[:m] for a in ws["A"]]
        if rng is None or not any(self.dropout):
            inputs = [X, *A[:-1]]
            masks = None
        else:
            inputs, masks = [X], []
        for layer, (W, b, z, act) in enumerate(
            zip(self.coefs, self.intercepts, A, [*self.activations, None], strict=True)
        ):
            _matmul(inputs[layer], W, z)
            z += b
            if act is not None:
                act.forward(z)
                if masks is not None:
                    masks.append(self._drop(layer, z, inputs, ws, m, rng))
        Z = A[-1]
        P = Z  # the head writes P over the logits once the loss is taken
        loss = self.head.forward_loss(Z, Y, P)
        delta = self.head.output_delta(P, Y)
        data_loss, total = weighted_total(loss, sample_weight)
        check_total(total)
        if sample_weight is not None:
            delta *= sample_weight[:, None]
        delta *= 1.0 / total
        D = ws["D"] if full else [d[:m] for d in ws["D"]]
        grad_views = self._grad_views(ws, grad)
        self._backward(inputs, A, D, delta, grad_views, ws["ones"][:m], masks)
        return self.add_penalty(grad, data_loss, total, alpha)

    def _drop(self, layer, a, inputs, ws, m, rng):
        """Draw hidden layer ``layer``'s mask; append its dropped output to ``inputs``.

        The mask and the dropped output go to their own workspace buffers: the
        undropped ``a`` must survive for the backward pass, since ``f'`` is
        taken from the output and ``1 - A**2`` (tanh) or ``A (1 - A)`` (sigmoid)
        of a thinned, rescaled ``A`` would be wrong.  Returns the mask, or None
        for a rate of 0 (``a`` itself is then the next input).
        """
        p = self.dropout[layer]
        if not p:
            inputs.append(a)
            return None
        mask, dropped = ws["M"][layer][:m], ws["H"][layer][:m]
        (rng[layer] if isinstance(rng, list) else rng).random(out=mask, dtype=self.dtype)
        # For u uniform in [0, 1), floor(u + 1 - p) is 1 when u >= p (probability
        # 1 - p) and 0 otherwise; then 1 / (1 - p) rescales.  Three in-place
        # passes, no temporaries (an in-place comparison would cast through a
        # hidden buffer).  Python floats keep float32 arithmetic in float32.
        mask += 1.0 - p
        np.floor(mask, out=mask)
        mask *= 1.0 / (1.0 - p)
        inputs.append(np.multiply(a, mask, out=dropped))
        return mask

    def penalty(self, alpha):
        """``alpha / 2 * sum_l ||W_l||^2``: the L2 term of ``J`` times ``S``.

        Parameters
        ----------
        alpha : float
            L2 penalty strength; 0 adds no term.

        Returns
        -------
        float
        """
        if not alpha:  # no term at all, however large the weights (0 * inf is NaN)
            return 0.0
        W_all = self.params[: self.n_weights]
        return 0.5 * alpha * float(W_all @ W_all)

    def _objective(self, data_loss, total, alpha):
        """``J`` from the weighted loss sum and the total weight ``S``; keeps the
        L2 term in :attr:`last_penalty` (the divergence guard reads weighted
        batches by it, without a second pass over the weights)."""
        self.last_penalty = self.penalty(alpha)
        return (data_loss + self.last_penalty) / total

    def objective(self, X, Y, sample_weight=None, alpha=0.0):
        """Objective ``J`` of the current weights on a batch; forward pass only.

        Parameters
        ----------
        X : ndarray or sparse matrix of shape (m, n_features)
            Batch inputs.
        Y : ndarray of shape (m, n_outputs)
            Encoded targets.
        sample_weight : ndarray of shape (m,), optional
            Non-negative weights with a positive sum; None means all ones.
        alpha : float, default=0.0
            L2 penalty on the weights.

        Returns
        -------
        float
            ``J`` as in the module docstring (NaN or inf if the weights are).

        Raises
        ------
        ValueError
            If ``X`` has no rows or not ``n_features`` columns, ``Y`` is not of
            shape ``(m, n_outputs)``, ``sample_weight`` not of shape ``(m,)``,
            a weight is negative or their sum is not positive.
        """
        self._check_batch(X, Y, sample_weight)
        # One pass over m weights beside a forward pass over m rows: affordable
        # here, unlike in loss_grad, which runs on every training batch.
        check_weights(sample_weight)
        Z = self.logits(X)
        data_loss, total = weighted_total(self.head.forward_loss(Z, Y, Z), sample_weight)
        check_total(total)
        return self._objective(data_loss, total, alpha)

    def _backward(self, inputs, A, D, delta, grad_views, ones, masks=None):
        gW, gb = grad_views
        for layer in range(self.n_layers - 1, -1, -1):
            _matmul(inputs[layer].T, delta, gW[layer])
            np.matmul(ones, delta, out=gb[layer])
            if layer:
                prev = D[layer - 1]  # dJ/dH of the layer below (H = A without dropout)
                np.matmul(delta, self.coefs[layer].T, out=prev)
                if masks is not None and masks[layer - 1] is not None:
                    prev *= masks[layer - 1]  # dJ/dA = dJ/dH * M
                delta = self.activations[layer - 1].backprop(A[layer - 1], prev)


def weighted_total(losses, sample_weight=None):
    """``(sum_i s_i loss_i, S)`` with ``S = sum_i s_i`` (every ``s_i = 1`` without weights).

    The one place where per-sample losses become a weighted sum: the
    objective, the divergence guard and the validation loss all use it.

    Parameters
    ----------
    losses : ndarray of shape (n_samples,)
        One loss per sample.
    sample_weight : ndarray of shape (n_samples,) or None
        The samples' weights; None weighs every sample 1.

    Returns
    -------
    weighted_sum : float
        ``sum_i s_i loss_i``.
    total : float
        ``S = sum_i s_i`` (the number of samples without weights).
    """
    if sample_weight is None:
        return float(losses.sum()), float(len(losses))
    return float(losses @ sample_weight), float(sample_weight.sum())


def _matmul(A, B, out):
    """``out[...] = A @ B``; ``A`` may be sparse (the first layer's input)."""
    if issparse(A):
        out[...] = A @ B
    else:
        np.matmul(A, B, out=out)
    return out


def forward_logits(X, coefs, intercepts, activations):
    """Logits of a network given as per-layer arrays; allocates, never mutates.

    Safe to call from several threads at once on the same arrays.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input rows.
    coefs : list of ndarray
        ``coefs[l]`` of shape ``(n_l, n_{l+1})``.
    intercepts : list of ndarray
        ``intercepts[l]`` of shape ``(n_{l+1},)``.
    activations : list of str
        Hidden activation names, one per hidden layer.

    Returns
    -------
    ndarray of shape (n_samples, n_outputs)
        The logits, before the head's output function.

    Raises
    ------
    ValueError
        If ``activations`` has not one name per hidden layer
        (``len(coefs) - 1``) or a name that is not a key of ``ACTIVATIONS``.
    """
    hidden = hidden_activations(activations, len(coefs) - 1)
    A = X
    for layer, (W, b) in enumerate(zip(coefs, intercepts, strict=True)):
        Z = A @ W
        Z += b
        if layer < len(hidden):
            hidden[layer].forward(Z)
        A = Z
    return A
