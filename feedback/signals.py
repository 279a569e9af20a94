"""Signals of the feedback app that the readers above it (analytics) listen to; feedback
never imports them.

`survey_answered` is sent by `feedback.services.surveys.survey_answer` *inside* the
transaction that stores an answer, with `survey` (the `Survey`, answer loaded). A receiver
that writes (analytics marking the ticket's figures due a refresh) commits or rolls back with
the answer. `surveys_answered` is its batch form, sent once by `surveys_answer_many` with
`surveys` (a list). Receivers must be quick and must not call out of the process.
"""

from django.dispatch import Signal

survey_answered = Signal()
surveys_answered = Signal()
