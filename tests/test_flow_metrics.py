"""PR lifecycle, flow, review and value-stream metrics on hand-built timelines (plain data)."""

from __future__ import annotations

from engmetrics.areas.flow.metrics.flow import active_seconds, flow_figures, size_bucket
from engmetrics.areas.flow.metrics.reviews import review_figures
from engmetrics.areas.flow.metrics.stuck import stuck_prs
from engmetrics.areas.flow.metrics.timeline import (
    PullRequestRecord as PR,
    ReviewRecord as R,
    coding_hours,
    cycle_hours,
    pickup_hours,
    review_hours,
)
from engmetrics.areas.flow.metrics.value_stream import value_stream


H = 3600


def test_draft_pickup_starts_when_ready_and_self_reviews_do_not_count() -> None:
    pr = PR("r", 1, author="ada", draft=False, created_at=0, ready_at=10 * H, first_commit_at=-5 * H, merged_at=20 * H,
            reviews=(R("ada", "commented", 11 * H), R("bob", "approved", 12 * H)))
    assert coding_hours(pr) == 5 and pickup_hours(pr) == 2 and review_hours(pr) == 8


def test_only_self_reviews_means_unreviewed() -> None:
    pr = PR("r", 2, author="ada", created_at=0, merged_at=5 * H, first_commit_at=0, reviews=(R("ada", "approved", H),),
            author_aliases=frozenset({"ada-alt"}))
    f = review_figures([pr], 0, 10 * H)
    assert f.unreviewed_merges == 1 and f.total_reviewed == 0 and pickup_hours(pr) is None


def test_never_deployed_prs_have_no_cycle_time_and_fall_back_to_merge() -> None:
    prs = [PR("r", 3, created_at=H, first_commit_at=0, merged_at=4 * H)]
    assert cycle_hours(prs[0]) is None
    f = flow_figures(prs, 0, 10 * H)
    assert f.cycle_time_definition == "first_commit_to_merge" and f.cycle_time.median == 4 and f.merged_not_deployed == 1
    prs.append(PR("r", 4, created_at=H, first_commit_at=0, merged_at=2 * H, deployed_at=6 * H))
    f = flow_figures(prs, 0, 10 * H)
    assert f.cycle_time_definition == "first_commit_to_deploy" and f.cycle_time.median == 6 and f.merged_not_deployed == 1


def test_force_push_keeps_author_times_and_counts_as_rework() -> None:
    # After a rebase the commits keep their author times but get new committer times (after the review).
    pr = PR("r", 5, author="ada", created_at=2 * H, first_commit_at=0, merged_at=30 * H, deployed_at=40 * H,
            author_times=(0, H), commit_times=(20 * H, 20 * H), reviews=(R("bob", "changes_requested", 10 * H),
                                                                       R("bob", "approved", 25 * H)))
    assert coding_hours(pr) == 2 and cycle_hours(pr) == 40
    f = review_figures([pr], 0, 50 * H)
    assert f.rework_commits_per_pr == 2 and f.rework_share_percent == 100


def test_flow_efficiency_is_union_of_activity_hours() -> None:
    pr = PR("r", 6, first_commit_at=0, merged_at=10 * H, author_times=(0,), commit_times=(H, int(1.5 * H)),
            reviews=(R("bob", "approved", 8 * H),))
    active, elapsed = active_seconds(pr)
    assert elapsed == 10 * H and active == 2.5 * H


def test_wip_sizes_and_stuck_reasons() -> None:
    now = 100 * H
    prs = [
        PR("r", 7, state="open", created_at=10 * H, additions=5, deletions=0),
        PR("r", 8, state="open", created_at=10 * H, draft=True),
        PR("r", 9, state="open", created_at=10 * H, reviews=(R("bob", "changes_requested", 20 * H),), commit_times=(5 * H,)),
        PR("r", 10, state="open", created_at=10 * H, reviews=(R("bob", "commented", 20 * H),), commit_times=(30 * H,)),
        PR("r", 11, state="merged", created_at=10 * H, merged_at=50 * H, first_commit_at=0, additions=300, deletions=200),
    ]
    f = flow_figures(prs, 0, now)
    assert f.wip_count == 4 and f.throughput == 1 and f.size_distribution["l"] == 1
    assert size_bucket(10) == "xs" and size_bucket(1001) == "xl"
    reasons = {s.pr.number: s.reason for s in stuck_prs(prs, now)}
    assert reasons == {7: "waiting_for_review", 9: "changes_requested", 10: "waiting_for_re_review"}


def test_value_stream_sums_stage_medians() -> None:
    prs = [PR("r", 12, issue_created_at=0, first_commit_at=10 * H, merged_at=20 * H, deployed_at=25 * H)]
    v = value_stream(prs, 0, 30 * H)
    assert (v.idea_to_commit.median, v.commit_to_merge.median, v.merge_to_deploy.median, v.total_lead_time) == (10, 10, 5, 25)
