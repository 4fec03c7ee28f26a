"""Sphinx configuration of the sknumpynet documentation.

Build from the repository root, offline, with warnings as errors::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

The build runs every example of ``examples/`` (sphinx-gallery). They use the
MNIST IDX files named by ``SKNUMPYNET_MNIST_DIR`` when it is set and
scikit-learn's digits otherwise.
"""

import warnings

import matplotlib

import sknumpynet

matplotlib.use("Agg")

project = "sknumpynet"
author = "sknumpynet developers"
copyright = "sknumpynet developers"  # noqa: A001 (Sphinx's name)
version = release = sknumpynet.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints", "sg_execution_times.rst"]
templates_path = ["_templates"]

# -- API reference --------------------------------------------------------
autosummary_generate = True
autodoc_default_options = {"members": True, "inherited-members": False}
autodoc_typehints = "none"
# numpydoc renders the members' summaries; autosummary would list them twice.
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
# Docstring style is checked by review and ruff, not by the build.
numpydoc_validation_checks = set()

# -- Example gallery ------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "min_reported_time": 1,
    "show_memory": False,
    "reference_url": {"sknumpynet": None},
    "doc_module": ("sknumpynet",),
    "backreferences_dir": "gen_modules/backreferences",
}
# Examples silence the warnings they expect; anything else stays visible in
# their output, but matplotlib's non-GUI backend notice is noise.
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")
warnings.filterwarnings("ignore", message="FigureCanvasAgg is non-interactive")

# -- HTML -----------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"sknumpynet {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
html_static_path = []
html_show_sourcelink = False
