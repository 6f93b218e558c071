"""Buttons under Midjourney results as a user sees them: rows of at most five (🌱 Seed
included), grouped as Midjourney groups them, labelled as Midjourney labels them, and only
buttons the gateway can press."""

from __future__ import annotations

import time
from typing import Any

import pytest

from bot.sandbox.mj_buttons import describe_buttons, grid_buttons, upscale_buttons
from bot.tasks.delivery import finish_of
from bot.tasks.layout import (
    MAX_PER_ROW,
    Wanted,
    arrange,
    caption_for,
    issue_rows,
    pressable,
    row_group,
    upstream_wanted,
)
from bot.upstream import MjTask
from storage.base import JobButton, JobRecord
from tests.support.harness import Harness

HASH = "3785da15-4f70-4034-9128-f3ff1ac634fa"
SEED = Wanted("seed", "1730621826053455", "Seed", "🌱")


def as_stored(wire: list[dict[str, Any]]) -> tuple[JobButton, ...]:
    """The buttons of a task that finished with these (as the gateway sends them), as stored."""
    task = MjTask.model_validate({"status": "SUCCESS", "buttons": wire})
    buttons = finish_of(JobRecord(1, "test", "c1", "", "alice", "imagine", "a cat"), task).buttons
    assert buttons is not None
    return buttons


def captions(rows: list[list[Wanted]]) -> list[list[str]]:
    return [[f"{w.emoji} {w.label}".strip() for w in row] for row in rows]


def test_a_grids_buttons_never_put_more_than_five_in_a_row_seed_included() -> None:
    rows = arrange(upstream_wanted(as_stored(grid_buttons(HASH))), [SEED])
    assert captions(rows) == [["U1", "U2", "U3", "U4", "🔄"],
                              ["V1", "V2", "V3", "V4", "🌱 Seed"]]
    assert MAX_PER_ROW == 5  # Discord's limit on a row of buttons


def test_seed_goes_to_a_row_of_its_own_after_a_full_row() -> None:
    full = [Wanted("mj", f"MJ::JOB::variation::{i}::{HASH}", f"V{i}", group="grid_v")
            for i in range(1, 6)]
    rows = arrange(full, [SEED])
    assert [len(row) for row in rows] == [5, 1] and rows[-1] == [SEED]


def test_a_group_wider_than_a_row_wraps_and_extras_fill_the_last_row_first() -> None:
    pans = [Wanted("mj", f"MJ::JOB::pan_{i}::1::{HASH}::SOLO", group="pan") for i in range(7)]
    extras = [Wanted("seed", "a"), Wanted("seed", "b"), Wanted("seed", "c"), Wanted("seed", "d")]
    rows = arrange(pans, extras)
    assert [len(row) for row in rows] == [5, 5, 1]
    assert rows[1][2:] == extras[:3] and rows[2] == extras[3:]
    assert arrange([], [SEED]) == [[SEED]]
    assert arrange([]) == []


@pytest.mark.parametrize("version", [5.2, 6.0, 6.1, 7.0, 8.0])
def test_an_upscaled_images_buttons_are_grouped_in_rows_of_at_most_five(version: float) -> None:
    rows = arrange(upstream_wanted(as_stored(upscale_buttons(HASH, version))), [SEED])
    assert all(1 <= len(row) <= MAX_PER_ROW for row in rows)
    flat = [w for row in rows for w in row]
    assert flat[-1] == SEED
    assert not any(w.payload.startswith("MJ::BOOKMARK") for w in flat)  # the gateway refuses it
    groups = [w.group for w in flat[:-1]]
    # Upscale and vary first, then zoom, then pan, each group on rows of its own.
    order = ["edit", "zoom", "pan"]
    assert groups == sorted(groups, key=order.index)
    for row in rows[:-1]:
        assert len({w.group for w in row}) == 1


def test_the_upscaled_images_rows_read_as_on_discord() -> None:
    rows = arrange(upstream_wanted(as_stored(upscale_buttons(HASH, 6.1))), [SEED])
    assert captions(rows) == [
        ["⬆️ Upscale (Subtle)", "⬆️ Upscale (Creative)", "🪄 Vary (Subtle)", "🪄 Vary (Strong)",
         "🖌️ Vary (Region)"],
        ["🔍 Zoom Out 2x", "🔍 Zoom Out 1.5x", "🔍 Custom Zoom"],
        ["⬅️", "➡️", "⬆️", "⬇️", "🌱 Seed"],
    ]


@pytest.mark.parametrize(
    ("custom_id", "ok"),
    [
        (f"MJ::JOB::upsample::1::{HASH}", True),
        (f"MJ::Inpaint::1::{HASH}::SOLO", True),
        (f"MJ::CustomZoom::{HASH}", True),
        (f"MJ::Outpaint::50::1::{HASH}::SOLO", True),
        ("MJ::Job::PicReader::1", False),  # describe's buttons: new-api refuses them
        ("MJ::Picread::Retry", False),
        (f"MJ::BOOKMARK::{HASH}", False),
        (f"XX::JOB::upsample::1::{HASH}", False),
        ("MJ", False),
        ("", False),
    ],
)
def test_only_buttons_the_gateway_can_press_are_offered(custom_id: str, ok: bool) -> None:
    assert pressable(custom_id) is ok


def test_describe_results_offer_no_upstream_buttons() -> None:
    assert upstream_wanted(as_stored(describe_buttons())) == []


def test_upstream_labels_and_emojis_are_kept_and_missing_ones_are_empty() -> None:
    wanted = upstream_wanted(as_stored([
        {"customId": f"MJ::BOOKMARK::{HASH}", "emoji": "❤️"},  # refused, the rest still shown
        {"customId": f"MJ::JOB::reroll::0::{HASH}::SOLO", "emoji": "🔄", "label": None},
        {"label": "no id"},
        {"customId": f"MJ::JOB::upsample::2::{HASH}", "label": "U2"},
        {"customId": f"MJ::JOB::pan_left::1::{HASH}::SOLO", "emoji": "⬅️"},
    ]))
    assert wanted == [
        Wanted("mj", f"MJ::JOB::reroll::0::{HASH}::SOLO", "", "🔄", "grid_u"),
        Wanted("mj", f"MJ::JOB::upsample::2::{HASH}", "U2", "", "grid_u"),
        Wanted("mj", f"MJ::JOB::pan_left::1::{HASH}::SOLO", "", "⬅️", "pan"),
    ]


@pytest.mark.parametrize(
    ("custom_id", "group"),
    [
        (f"MJ::JOB::upsample::3::{HASH}", "grid_u"),
        (f"MJ::JOB::reroll::0::{HASH}::SOLO", "grid_u"),
        (f"MJ::JOB::variation::3::{HASH}", "grid_v"),
        (f"MJ::JOB::upsample_v6r1_2x_subtle::1::{HASH}::SOLO", "edit"),
        (f"MJ::JOB::low_variation::1::{HASH}::SOLO", "edit"),
        (f"MJ::JOB::high_variation::1::{HASH}::SOLO", "edit"),
        (f"MJ::Inpaint::1::{HASH}::SOLO", "edit"),
        (f"MJ::Outpaint::75::1::{HASH}::SOLO", "zoom"),
        (f"MJ::CustomZoom::{HASH}", "zoom"),
        (f"MJ::JOB::pan_down::1::{HASH}::SOLO", "pan"),
        ("MJ::Something::new", "other"),
        ("MJ::JOB", "other"),
        ("MJ", "other"),
    ],
)
def test_each_button_joins_its_midjourney_row(custom_id: str, group: str) -> None:
    assert row_group(custom_id) == group


@pytest.mark.parametrize(
    ("custom_id", "caption"),
    [
        (f"MJ::JOB::upsample::4::{HASH}", "U4"),
        (f"MJ::JOB::variation::2::{HASH}", "V2"),
        (f"MJ::JOB::reroll::0::{HASH}::SOLO", "🔄"),
        (f"MJ::JOB::upsample_v6r1_2x_subtle::1::{HASH}::SOLO", "Upscale (Subtle)"),
        (f"MJ::JOB::upsample_v6r1_2x_creative::1::{HASH}::SOLO", "Upscale (Creative)"),
        (f"MJ::JOB::low_variation::1::{HASH}::SOLO", "Vary (Subtle)"),
        (f"MJ::JOB::high_variation::1::{HASH}::SOLO", "Vary (Strong)"),
        (f"MJ::JOB::pan_left::1::{HASH}::SOLO", "⬅️"),
        (f"MJ::JOB::pan_right::1::{HASH}::SOLO", "➡️"),
        (f"MJ::JOB::pan_up::1::{HASH}::SOLO", "⬆️"),
        (f"MJ::JOB::pan_down::1::{HASH}::SOLO", "⬇️"),
        (f"MJ::Inpaint::1::{HASH}::SOLO", "Vary (Region)"),
        (f"MJ::Outpaint::50::1::{HASH}::SOLO", "Zoom Out 2x"),
        (f"MJ::Outpaint::75::1::{HASH}::SOLO", "Zoom Out 1.5x"),
        (f"MJ::CustomZoom::{HASH}", "Custom Zoom"),
        (f"MJ::JOB::mystery::1::{HASH}", ""),
        ("MJ::Other::thing", ""),
        ("MJ::JOB", ""),
    ],
)
def test_a_button_is_named_as_midjourney_names_it(custom_id: str, caption: str) -> None:
    assert caption_for(custom_id) == caption


def test_an_index_less_upsample_or_variation_is_named_by_its_letter() -> None:
    assert caption_for("MJ::JOB::upsample::") == "U"
    assert caption_for("MJ::JOB::upsample::2") == "U2"  # no job hash after the index
    assert caption_for("MJ::JOB::variation") == "V"


async def test_each_button_shown_stands_for_its_action_and_belongs_to_the_jobs_owner(
        harness: Harness) -> None:
    store = harness.services.store
    job = await store.create_job(JobRecord(0, "test", "c1", "", "alice", "imagine", "a cat",
                                           upstream_id="1730621826053455"))
    rows = arrange(upstream_wanted(as_stored(grid_buttons(HASH))), [SEED])
    before = time.time()
    shown = await issue_rows(harness.services, job, rows)
    after = time.time()
    assert [[b.caption for b in row] for row in shown] == captions(rows)
    ttl = harness.services.settings.button_token_ttl_s
    for row, wanted_row in zip(shown, rows, strict=True):
        for button, wanted in zip(row, wanted_row, strict=True):
            action = await store.resolve_token(button.token)
            assert action is not None
            assert (action.kind, action.payload) == (wanted.kind, wanted.payload)
            assert (action.owner_id, action.platform, action.job_id) == ("alice", "test", job.id)
            assert before + ttl <= action.expires_at <= after + ttl
    assert len({b.token for row in shown for b in row}) == 10
    assert await issue_rows(harness.services, job, []) == ()
    assert await issue_rows(harness.services, job, [[]]) == ()
