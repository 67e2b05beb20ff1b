"""nbgrader configuration of the course (run nbgrader from the repository root)."""
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from grader import HideHiddenTestOutput

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "nn-lm-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# Grading: a cell that runs longer than this is interrupted and scores 0.
c.Execute.timeout = 60
# A submission that lost a graded cell gets it back (and scores 0 for it), instead of aborting.
c.OverwriteCells.add_missing_cells = True
# Feedback never shows hidden tests: neither their source nor a traceback that quotes it.
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTestOutput, ClearHiddenTests]
