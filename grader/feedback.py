"""nbgrader extensions used by ``nbgrader_config.py``.

``HideHiddenTestOutput`` keeps hidden tests out of feedback.  nbgrader's
``ClearHiddenTests`` removes the hidden-test *source*, but a failing hidden
test also prints an IPython traceback, which quotes the lines around the
failing call, hidden tests included.  This preprocessor runs before
``ClearHiddenTests`` and, in every cell that holds a hidden-test region,
reduces each error to its one-line message ("CheckFailure: softmax is wrong
at index ... on case ..."), which says what is wrong without showing code.
"""
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Unicode


class HideHiddenTestOutput(NbGraderPreprocessor):
    """Replace tracebacks of cells with hidden tests by the error's one-line message."""

    begin_test_delimeter = Unicode("BEGIN HIDDEN TESTS").tag(config=True)

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type == "code" and self.begin_test_delimeter in cell.source:
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
        return cell, resources
