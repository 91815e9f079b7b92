"""The book's figures: one ``plot_*`` function per figure of a chapter.

One module per part, all re-exported here, so a chapter writes
``from lvmkit.book import figures`` and calls ``figures.plot_reflection(...)``:

* :mod:`~lvmkit.book.figures.part1`: tree rows, the reflection, learning curves, the
  prior against the average posterior.
* :mod:`~lvmkit.book.figures.part2`: likelihood against KL, response kurtosis,
  posterior tilings and the puzzle, complexity sweep, sparse priors, Gabor fits, the
  generate-versus-infer panel.
* :mod:`~lvmkit.book.figures.part3`: interpolations, posterior families, salt and
  pepper, shapes.
* :mod:`~lvmkit.book.figures.performance`: benchmark ratios.

Reusable primitives (tiles, image grids, densities, rank histograms, trajectories, the
rate-distortion plane) and the book's style are in :mod:`lvmkit.plotting`.
"""

from lvmkit.book.figures.part1 import (
    plot_learning_curves,
    plot_prior_vs_average_posterior,
    plot_reflection,
    plot_tree_rows,
)
from lvmkit.book.figures.part2 import (
    plot_complexity_sweep,
    plot_gabor_r2,
    plot_generate_vs_infer,
    plot_likelihood_vs_kl,
    plot_posterior_tiling,
    plot_puzzle,
    plot_response_kurtosis,
    plot_sparse_priors_2d,
)
from lvmkit.book.figures.part3 import (
    plot_interpolations,
    plot_posterior_families,
    plot_salt_and_pepper,
    plot_shapes,
)
from lvmkit.book.figures.performance import plot_benchmark_ratios

__all__ = [
    "plot_benchmark_ratios",
    "plot_complexity_sweep",
    "plot_gabor_r2",
    "plot_generate_vs_infer",
    "plot_interpolations",
    "plot_learning_curves",
    "plot_likelihood_vs_kl",
    "plot_posterior_families",
    "plot_posterior_tiling",
    "plot_prior_vs_average_posterior",
    "plot_puzzle",
    "plot_reflection",
    "plot_response_kurtosis",
    "plot_salt_and_pepper",
    "plot_shapes",
    "plot_sparse_priors_2d",
    "plot_tree_rows",
]
