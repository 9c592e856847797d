"""Instructor tooling: nbgrader preprocessors, the sandboxed grading kernel and class grading.

Everything here runs in the grader's own process. The learner's kernel only hands over
its answers as plain data (:func:`lstm_lib.answers.answer_json`, loaded from its file);
the expected values, recorded from Keras in ``references/``, and the comparison never
enter it. The
preprocessors are wired into nbgrader by ``nbgrader_config.py`` at the repository root,
so plain ``nbgrader autograde``, the formgrader and ``lstm-grade`` all use them.
"""
