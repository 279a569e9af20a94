"""Every write of feedback, one module per job:

- `scorecards`: scorecards and their versions (editing one adds a version);
- `quality_settings`: the pre-checks' lists and thresholds, team sampling rules, reviewers;
- `sampling`: the weekly sample each team's rule draws, and the sources it asks;
- `prechecks`: the automatic checks that rank a sampled ticket and point at its messages;
- `scoring`: a review's score from its ratings, and two reviews' agreement;
- `reviews`: submitting a review, the agent's acknowledgement or appeal, the decision.
"""
