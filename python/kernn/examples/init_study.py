"""W5: how weight initialisation decides whether signals survive 100 layers of 512x512.

A batch of standard-normal inputs with 512 features goes through 100 bias-free linear layers
with 512x512 weights (an activation after each, for the schemes that have one); after every
layer the mean and std of the activations are recorded, pooled over a few independent stacks
(--trials, see layer_statistics for why). The schemes:

    normal          N(0, 1) weights, no activation: the std grows ~sqrt(512) = 22.6x a layer
                    and overflows float32 to inf/nan within about 30 layers
    scaled          N(0, 1) / sqrt(512): the std stays near 1 through 100 layers
    tanh-scaled     the same with tanh after every layer: the std decays to about 0.06 at 100
    xavier-tanh     Glorot uniform, bound sqrt(6 / (fan_in + fan_out)), with tanh: stable
    kaiming-relu    He normal, std sqrt(2 / fan_in), with ReLU: the second moment is kept, the
                    std stays near 0.8 (ReLU outputs of unit mean square)
    xavier-relu     Glorot uniform with ReLU: each layer halves the variance, the signal vanishes

Prints the std at selected layers and the layer where each scheme overflows or vanishes, writes
the mean and std of every layer to metrics.json, and plots the std per layer.

    kernn run init-study [--layers 100] [--width 512] [--batch 64] [--trials 4]
"""

import math

import numpy as np

import kernn
from kernn import nn
from kernn.nn import functional as F

from . import _common

NAME = "init-study"
# the std below which the signal counts as vanished (the input has std 1)
VANISHED_STD = 1e-5


def _normal(weight):
    nn.init.normal_(weight, mean=0.0, std=1.0)


def _scaled_normal(weight):
    nn.init.normal_(weight, mean=0.0, std=1.0 / math.sqrt(weight.shape[1]))


def _xavier(weight):
    nn.init.xavier_uniform_(weight)


def _kaiming(weight):
    nn.init.kaiming_normal_(weight, mode="fan_in", nonlinearity="relu")


# scheme -> (weight initialiser, activation or None)
SCHEMES = {
    "normal": (_normal, None),
    "scaled": (_scaled_normal, None),
    "tanh-scaled": (_scaled_normal, F.tanh),
    "xavier-tanh": (_xavier, F.tanh),
    "kaiming-relu": (_kaiming, F.relu),
    "xavier-relu": (_xavier, F.relu),
}


def draw_weights(scheme, width):
    """One (width, width) weight matrix drawn by the scheme's initialiser from kernn's global
    generator. (An nn.Linear would first draw its default init and throw it away: over 600
    matrices of 512x512 that doubles the random numbers for nothing.)"""
    init, _ = SCHEMES[scheme]
    weight = kernn.empty(width, width)
    init(weight)
    return weight


def layer_statistics(scheme, layers, width, batch, trials, seed):
    """Mean and std of the activations after every layer, pooled over `trials` independent
    stacks (fresh weights and inputs each), accumulated in float64. Each layer's weights are
    drawn when the signal reaches it, so no stack is ever held in memory.

    Why pool: at width 512 the weights of each layer scale the signal by a random factor, so
    over 100 layers the std of a single stack wanders over a factor of ~3 either way (a random
    walk in log scale; for Kaiming/ReLU we saw 0.3 to 1.6 at layer 100 across seeds). What an
    initialisation controls is the expected second moment; pooling a few stacks estimates
    that, a single stack only samples it.
    """
    total = np.zeros(layers)
    total_squares = np.zeros(layers)
    count = 0
    rng = np.random.default_rng(seed)
    _, activation = SCHEMES[scheme]
    with kernn.no_grad(), np.errstate(over="ignore", invalid="ignore"):
        for _ in range(trials):
            h = kernn.from_numpy(rng.standard_normal((batch, width)).astype(np.float32))
            for layer in range(layers):
                h = F.linear(h, draw_weights(scheme, width))
                if activation is not None:
                    h = activation(h)
                values = h.numpy().astype(np.float64)
                total[layer] += values.sum()
                total_squares[layer] += np.square(values).sum()
            count += batch * width
        means = total / count
        stds = np.sqrt(np.maximum(total_squares / count - np.square(means), 0.0))
        stds[~np.isfinite(means) | ~np.isfinite(total_squares)] = np.nan
    return means.tolist(), stds.tolist()


def first_layer(stds, condition):
    """1-based index of the first layer whose std meets `condition`, or None."""
    for layer, std in enumerate(stds, start=1):
        if condition(std):
            return layer
    return None


def plot_stds(results):
    """Std per layer, log scale: every scheme on the left, the ones that neither overflow nor
    vanish enlarged on the right. An x marks the last finite value before an overflow."""
    fig = _common.figure(figsize=(10, 4), dpi=90)
    if fig is None:
        return None
    full, zoom = fig.subplots(1, 2)
    colours = dict(zip(results, ["C0", "C1", "C2", "C3", "C4", "C5"] * 2))
    for scheme, result in results.items():
        stds = np.asarray(result["std"])
        layers = np.arange(1, len(stds) + 1)
        shown = np.isfinite(stds) & (stds > 0)
        full.semilogy(layers[shown], stds[shown], color=colours[scheme], label=scheme)
        if result["overflow_layer"] is not None and shown.any():
            full.plot(layers[shown][-1], stds[shown][-1], "kx")
        if result["overflow_layer"] is None and result["vanish_layer"] is None:
            zoom.semilogy(layers, stds, color=colours[scheme], label=scheme)
    full.set_title("std of the activations per layer (x: overflow next)")
    zoom.set_title("the schemes that neither overflow nor vanish")
    zoom.set_ylim(0.02, 5)
    for ax in (full, zoom):
        ax.set_xlabel("layer")
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8)
    full.set_ylabel("std")
    fig.tight_layout()
    return fig


def main(argv=None):
    parser = _common.make_parser(NAME, __doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=100, help="depth of the stack (default 100)")
    parser.add_argument("--width", type=int, default=512, help="features per layer (default 512)")
    parser.add_argument("--batch", type=int, default=64,
                        help="standard-normal input rows (default 64; --limit caps it)")
    parser.add_argument("--trials", type=int, default=4,
                        help="independent stacks pooled per scheme (default 4)")
    parser.add_argument("--schemes", nargs="+", choices=list(SCHEMES), default=list(SCHEMES),
                        help="which schemes to run (default all)")
    _common.add_common_args(parser, NAME)
    args = parser.parse_args(argv)
    for option in ("layers", "width", "batch", "trials"):
        if getattr(args, option) < 1:
            parser.error(f"--{option} must be positive, got {getattr(args, option)}")
    _common.setup(args)

    batch = min(args.batch, args.limit or args.batch)
    results = {}
    for scheme in _common.ProgressBar(args.schemes, desc="schemes"):
        means, stds = layer_statistics(scheme, args.layers, args.width, batch, args.trials,
                                       args.seed)
        results[scheme] = {
            "mean": means,
            "std": stds,
            "overflow_layer": first_layer(stds, lambda s: not math.isfinite(s)),
            "vanish_layer": first_layer(stds, lambda s: s < VANISHED_STD),
            "final_std": stds[-1],
        }

    shown_layers = sorted({1, 2, 5, 10, 20, 30, 50, 75, args.layers} & set(range(1, args.layers + 1)))
    print("std of the activations after layer:")
    print(f"{'scheme':<14}" + "".join(f"{layer:>10}" for layer in shown_layers) + "   outcome")
    for scheme, result in results.items():
        row = "".join(f"{result['std'][layer - 1]:>10.3g}" for layer in shown_layers)
        if result["overflow_layer"] is not None:
            outcome = f"overflows (inf/nan) at layer {result['overflow_layer']}"
        elif result["vanish_layer"] is not None:
            outcome = f"vanishes (std < {VANISHED_STD:g}) at layer {result['vanish_layer']}"
        else:
            outcome = f"std {result['final_std']:.3g} at layer {args.layers}"
        print(f"{scheme:<14}{row}   {outcome}")

    metrics = {"layers": args.layers, "width": args.width, "batch": batch, "trials": args.trials,
               "schemes": results}
    for scheme, result in results.items():
        metrics[f"{scheme}_final_std"] = result["final_std"]
    return _common.finish(args, NAME, metrics, figures=[("std_per_layer.png", plot_stds(results))])


if __name__ == "__main__":
    _common.run_as_script(main)
