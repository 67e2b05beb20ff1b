"""NumPy reference implementations, checks, data, plots and widgets for the course.

One module per concept: ``activations``, ``linear`` (affine maps: why
nonlinearity and bias), ``layers`` (the (out, cache) layer API), ``mlp``,
``losses``, ``optim``, ``gradcheck``, ``classifier`` (the text classifier),
``ngram``, ``window_lm``, ``cells`` (the recurrent cells behind one interface: ``rnn``, ``lstm``,
``gru``, with ``bidirectional`` and ``stacked`` networks over any of them), ``rnn_lm`` and ``copy_task``
(language models and the delayed-copy task on any cell), ``sequence_classifier`` (a sentence classifier on
any cell), ``gate_analysis`` (gradient paths and gate activations),
``sampling`` (generating text: temperature, top-k, top-p, beam search), ``data``
(the data sets), ``plots``, ``widgets``, ``progress`` (progress bars),
``runmode`` (grading mode, BLAS threads), ``validate`` (argument errors) and
``checks`` (the checks the notebooks call).  The class grader (``make grade``)
is a package of its own, ``grader``, which this package never imports.
Conventions: docs/conventions.md (column vectors, batches as columns (D, N),
time-major sequences, parameters as dicts named as on the slides).

Importing the package limits NumPy's BLAS to one thread (see ``runmode.limit_threads``).
"""
from .runmode import limit_threads

limit_threads()
__version__ = "0.1.0"
