r"""The tree world W: species -> trunk -> branches -> leaves -> image, exact by enumeration.

The series' running example {cite}`lange2019part1` made small enough that every
probability in it is exact. A picture of a tree is generated top down:

* species ``s`` in {willow, oak, pine} with probabilities ``species_probs``;
* trunk ``t = (x, h)``: its column ``x`` (6 values) and a height level ``h`` (3 values,
  species-specific heights), ``P(t | s) = trunk_probs[s]``;
* branches ``b = g``: one of 4 branch geometries (spans of the left and right limbs,
  or the spread of a pine's tiers), ``P(b | s, h) = branch_probs[s, h]``;
* leaves: three foliage slots (left, right, crown), each with an amount ``c`` in
  {0, 1, 2} drawn i.i.d. from ``leaf_probs[s]``. Trunk, branches and foliage render
  deterministically into the *part map* ``l`` in {sky, wood, leaf}^(16x16), the lowest
  latent layer;
* image: each pixel is on independently with probability ``pixel_on[l_p]``, so
  ``P(Im | l) = prod_p P(Im_p | l_p)`` depends on the lowest layer only.

There are ``3 * 18 * 4 * 27 = 5832`` configurations of the upper layers and leaves, so

.. math::
    P(\mathrm{Im}) = \sum_s P(s) \sum_t P(t|s) \sum_b P(b|s,t) \sum_c P(c|s)\,
    P(\mathrm{Im} \mid l(s,t,b,c))

is an exact finite sum, and so is the induced prior on the lowest layer
``P_fancy(l) = sum over configurations rendering to l``. The structure (which
configuration renders to which map) is fixed; the parameters are the conditional
probability tables, which :meth:`TreeWorld.fit` learns from part maps by EM.

Which file holds what: :mod:`~lvmkit.treeworld.render` (constants, rendering,
enumeration), :mod:`~lvmkit.treeworld.pixels` (the image layer, the input checks),
:mod:`~lvmkit.treeworld.world` (:class:`TreeWorld`), :mod:`~lvmkit.treeworld.baselines`
(:class:`FlatFancyModel`, :class:`TextureModel`).
"""

from lvmkit.treeworld.baselines import (
    FlatFancyModel,
    TextureModel,
    largest_part_fraction,
)
from lvmkit.treeworld.pixels import image_log_likelihood
from lvmkit.treeworld.render import (
    HEIGHT,
    LEAF,
    N_BRANCH,
    N_LEAF,
    N_SLOTS,
    N_TRUNK_H,
    N_TRUNK_X,
    SKY,
    SPECIES,
    TRUNK_X,
    WIDTH,
    WOOD,
    enumerate_configs,
    layer_maps,
    render,
)
from lvmkit.treeworld.world import TreeSample, TreeWorld

__all__ = [
    "HEIGHT",
    "LEAF",
    "N_BRANCH",
    "N_LEAF",
    "N_SLOTS",
    "N_TRUNK_H",
    "N_TRUNK_X",
    "SKY",
    "SPECIES",
    "TRUNK_X",
    "WIDTH",
    "WOOD",
    "FlatFancyModel",
    "TextureModel",
    "TreeSample",
    "TreeWorld",
    "enumerate_configs",
    "image_log_likelihood",
    "largest_part_fraction",
    "layer_maps",
    "render",
]
