"""nbgrader configuration of the course (run nbgrader from the repository root)."""
from grader.feedback import PREPROCESSORS

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "nn-lm-course"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"

# Grading: a cell that runs longer than this is interrupted and scores 0.
c.Execute.timeout = 60
# A submission that lost a graded cell gets it back (and scores 0 for it), instead of aborting.
c.OverwriteCells.add_missing_cells = True
# Feedback: the same preprocessors as `make grade`'s (grader/feedback.py): never a hidden test (neither its
# source nor a traceback that quotes it), the student's outputs as plain text and images, formulas as MathML.
c.GenerateFeedback.preprocessors = PREPROCESSORS
