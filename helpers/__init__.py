"""NumPy reference implementations, checks, data, plots and widgets for the course.

One module per concept: ``activations``, ``linear``, ``mlp``, ``losses``,
``gradcheck``, ``data``, ``plots``, ``widgets``, ``runmode``, ``checks``.
Conventions (see CURRICULUM.md): column vectors, batches as columns (D, N),
parameters as dicts named as on the slides.
"""
__version__ = "0.1.0"
