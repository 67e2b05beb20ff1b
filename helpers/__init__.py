"""NumPy reference implementations, checks, data, plots and widgets for the course.

One module per concept: ``activations``, ``linear`` (affine maps: why
nonlinearity and bias), ``layers`` (the (out, cache) layer API), ``mlp``,
``losses``, ``optim``, ``gradcheck``, ``classifier`` (the text classifier),
``ngram``, ``window_lm``, ``sampling`` (generating text: temperature, top-k, top-p, beam
search), ``data`` (the data sets), ``plots``, ``widgets``,
``runmode`` (grading mode), ``validate`` (argument errors), ``grading``
(``make grade``, on top of nbgrader) and ``checks`` (the checks the notebooks call).
Conventions (see CURRICULUM.md): column vectors, batches as columns (D, N),
parameters as dicts named as on the slides.
"""
__version__ = "0.1.0"
