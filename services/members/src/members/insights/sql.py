"""The refresh's SQL: the brand-wide baseline of a date (BASELINE before a refresh in shards; PREMIUM, then
BASELINE_OF_FACTS after the facts, in one shard; then BASELINE_INSERT), and the set-based
recomputation of one shard of members (RFM, stage, history, facts for audiences, consumer types) with its
`member.stage-changed` events: FACTS (the shard's per-member facts, read-only, so PostgreSQL may run it in
parallel workers) then REFRESH (everything else and every write, in one statement). No per-member loop:
PostgreSQL does the work where the rows are.

Conventions shared by these statements (and by the Polars baselines in bench/insights.py, bench/insights_full.py):
- an order counts net of its refunds; a fully refunded order is not an order;
- local dates are Asia/Shanghai; `until` is the start of the day after `as_of`; the window is the `window_days`
  local dates ending on `as_of`;
- R = days since the last order; F = orders in the window; M = net spend in the window;
- quintile bounds are percentile_disc(0.2, 0.4, 0.6, 0.8) among the window's buyers; a score is 1 + the number of
  bounds the value is above (R: 5 − the number of bounds the recency is above: recent is good);
- a segment compares R, F, M with the buyers' averages: R↑ when recency < average, F↑ / M↑ when above average;
- high value: loyal and M above the 80th percentile (m_score 5: the top 20 %).
"""

from __future__ import annotations

from members.orders.models import SalesChannel

# The first order's channel without sorting each member's orders: the minimum of (epoch µs × 16 + channel index).
CHANNELS = tuple(channel.value for channel in SalesChannel)
_CHANNEL_ARRAY = "ARRAY[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]::text[]"
# A channel's position in CHANNELS (1-based), as a CASE: cheaper per order than array_position over the array.
_CHANNEL_NUMBER = "CASE o.channel " + " ".join(f"WHEN '{c}' THEN {n}" for n, c in enumerate(CHANNELS, 1)) + " END"


def _in_shard(column: str) -> str:
    """The shard's members by a hash of their id; with one shard the planner folds it to true, so its row
    estimates stay right (a hash predicate is estimated at 0.5 % of rows, which picks nested loops)."""
    return (
        f"(CAST(:shards AS integer) = 1 OR ((hashtext({column}::text) & 2147483647) % CAST(:shards AS integer)) "
        "= CAST(:shard AS integer))"
    )


_INLINE_LINES = 3  # orders with up to this many lines are summed inline (nearly all of them)
_PREMIUM = "CAST(:premium_unit_fen AS bigint)"  # the date's (its stored baseline's, or PREMIUM's): bound


def _premium(order: str) -> str:
    """An order's line amount at or above the date's premium unit price: inline comparisons of its typed line
    arrays for orders of up to three lines (nearly all), the parallel-safe function `members.premium_amount_fen`
    (migration 5b7e2a9c1d46) for longer ones. No subquery: a correlated subquery here would keep the aggregate out
    of parallel workers."""
    prices, amounts = f"{order}.line_prices_fen", f"{order}.line_amounts_fen"
    line = [
        f"(CASE WHEN {prices}[{k}] >= {_PREMIUM} THEN {amounts}[{k}] ELSE 0 END)" for k in range(1, 1 + _INLINE_LINES)
    ]
    # by the number of lines, so that an order compares only the lines it has
    inline = " ".join(f"WHEN {n} THEN {' + '.join(line[:n])}" for n in range(1, 1 + _INLINE_LINES))
    return f"(CASE cardinality({prices}) {inline} ELSE members.premium_amount_fen({prices}, {amounts}, {_PREMIUM}) END)"


# The date and the end of its last local day, for REFRESH (FACTS and BASELINE use bound values directly: a CTE
# referenced row by row would keep them out of parallel workers). Day thresholds are instants (the start of a
# local day, computed by the caller), so no order's local date is computed row by row: a local date d > D exactly
# when the order is at or after the start of D + 1.
PARAMS = """
p AS (
    SELECT CAST(:as_of AS date) AS as_of,
           CAST(:until AS timestamptz) AS until
)"""

# Built from constants of this module only (no input reaches the text): bound parameters carry every value.
# Read-only SELECTs with bound values only (no CTE referenced per row), so that their scans of the window's orders
# run in parallel workers; BASELINE_INSERT then writes the row. The premium unit price is percentile_disc(0.8) of
# the window's line unit prices, found from their counts per price (a parallel hash aggregate instead of a sort of
# every line): the first price whose running count reaches ceil(0.8 × lines), as percentile_disc picks it.
_WINDOW_ORDERS = (
    "o.occurred_at >= CAST(:window_from AS timestamptz) AND o.occurred_at < CAST(:until AS timestamptz) "
    "AND o.refunded_fen < o.paid_fen"
)
_PREMIUM_PRICE = f"""
prices AS (
    SELECT l.unit_price_fen, count(*) AS lines
    FROM members.orders o, unnest(o.line_prices_fen) AS l(unit_price_fen)
    WHERE {_WINDOW_ORDERS} AND l.unit_price_fen IS NOT NULL
    GROUP BY l.unit_price_fen
),
premium AS (
    SELECT coalesce(min(c.unit_price_fen), 0)::bigint AS fen
    FROM (
        SELECT unit_price_fen, sum(lines) OVER (ORDER BY unit_price_fen) AS running, sum(lines) OVER () AS total
        FROM prices
    ) c
    WHERE c.running >= greatest(ceil(0.8::float8 * c.total::float8), 1)
)"""  # noqa: S608


def _summary(premium: str) -> str:
    """The baseline's row from `per` (one row per buyer of the window: r, f, m) and the premium price `premium`."""
    return f"""
SELECT count(*)::integer AS buyers,
       coalesce(percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY r), '{{}}')::integer[] AS r_bounds,
       coalesce(percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY f), '{{}}')::integer[] AS f_bounds,
       coalesce(percentile_disc(ARRAY[0.2, 0.4, 0.6, 0.8]) WITHIN GROUP (ORDER BY m), '{{}}')::bigint[] AS m_bounds,
       coalesce(avg(r), 0)::float8 AS average_r, coalesce(avg(f), 0)::float8 AS average_f,
       coalesce(avg(m), 0)::float8 AS average_m,
       {premium} AS premium_unit_fen,
       coalesce(sum(m)::float8 / nullif(sum(f), 0), 0)::float8 AS average_order_fen
FROM per
"""  # noqa: S608


# The whole baseline of the date, in two scans of the window's orders (per buyer, per unit price): a refresh in
# shards runs it before its first shard's facts, as each shard only sees its own buyers.
BASELINE = f"""
WITH per AS (
    SELECT o.member_id,
           CAST(:as_of AS date) - (max(o.occurred_at) AT TIME ZONE 'Asia/Shanghai')::date AS r,
           count(*) AS f,
           members.bigint_sum(o.paid_fen - o.refunded_fen) AS m
    FROM members.orders o
    WHERE {_WINDOW_ORDERS}
    GROUP BY o.member_id
),
{_PREMIUM_PRICE}
{_summary("(SELECT fen FROM premium)")}"""  # noqa: S608

# A refresh in one shard finds the premium price alone (FACTS needs it), then the rest of the baseline from its
# own facts (BASELINE_OF_FACTS: the window's buyers are the facts' members with f > 0, with the same r, f and m),
# which saves a pass over the window's orders.
PREMIUM = f"WITH {_PREMIUM_PRICE}\nSELECT fen AS premium_unit_fen FROM premium"

BASELINE_INSERT = """
INSERT INTO members.insight_baselines (
    as_of, window_days, buyers, r_bounds, f_bounds, m_bounds, average_r, average_f, average_m, premium_unit_fen,
    average_order_fen
)
VALUES (CAST(:as_of AS date), CAST(:window_days AS integer), CAST(:buyers AS integer), CAST(:r_bounds AS integer[]),
        CAST(:f_bounds AS integer[]), CAST(:m_bounds AS bigint[]), CAST(:average_r AS float8),
        CAST(:average_f AS float8), CAST(:average_m AS float8), CAST(:premium_unit_fen AS bigint),
        CAST(:average_order_fen AS float8))
ON CONFLICT (as_of) DO NOTHING
"""

BASELINE_PREMIUM = "SELECT premium_unit_fen FROM members.insight_baselines WHERE as_of = CAST(:as_of AS date)"

# What a refresh sets on an existing row; a row whose values would not change is not written at all (it never
# reaches the INSERT, so it is neither locked nor rewritten: a re-run of the same date writes nothing). The
# ON CONFLICT clause repeats the test for a row written meanwhile by another transaction.
_UPDATED = (
    "as_of",
    "stage",
    "stage_since",
    "previous_as_of",
    "previous_stage",
    "previous_stage_since",
    "recency_days",
    "frequency",
    "monetary_fen",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "largest_order_fen",
    "discount_share",
    "premium_share",
    "orders_total",
    "orders_two_years",
    "orders_without_refund",
    "total_spend_fen",
    "average_order_fen",
    "first_order_at",
    "first_order_channel",
    "last_order_at",
    "last_visit_at",
    "last_cart_at",
    "followed_at",
    "expected_repurchase_on",
    "consumer_types",
)
_SET = ", ".join(f"{name} = excluded.{name}" for name in _UPDATED)
_OLD = ", ".join(f"i.{name}" for name in _UPDATED)
_NEW = ", ".join(f"excluded.{name}" for name in _UPDATED)
_CURRENT = ", ".join(f"cur.{name} AS cur_{name}" for name in _UPDATED)  # the stored row, to skip it when unchanged
_CURRENT_OF_STAGED = ", ".join(f"st.cur_{name}" for name in _UPDATED)
_STORED = ", ".join(f"c.cur_{name}" for name in _UPDATED)
_COMPUTED = ", ".join(f"c.{name}" for name in _UPDATED)

# The shard's facts per member (orders, behaviour), read-only: a CREATE TABLE AS, which PostgreSQL plans in
# parallel (a statement that writes through a CTE never is), into a temporary table of this transaction that
# REFRESH then reads. Bound values only (no CTE, no subquery per row), so that the scans and aggregates may run in
# parallel workers. Amounts are summed by members.bigint_sum (migration 5b7e2a9c1d46: a bigint state passed by
# value, where sum(bigint) allocates a 128-bit one per member and serialises it between workers). A member
# registered after the date is kept when they bought in the window (`registered` false: REFRESH leaves them out),
# so that the baseline of a refresh in one shard counts every buyer (BASELINE_OF_FACTS).
FACTS_TABLE = "pg_temp.insight_facts"
_WINDOW = "CAST(:window_from AS timestamptz)"
_UNTIL = "CAST(:until AS timestamptz)"
FACTS = f"""
CREATE TEMPORARY TABLE insight_facts ON COMMIT DROP AS
WITH agg AS (
    SELECT o.member_id,
           count(*) AS orders_total,
           count(*) FILTER (WHERE o.occurred_at >= CAST(:two_years_from AS timestamptz)) AS orders_two_years,
           count(*) FILTER (WHERE o.refunded_fen = 0) AS orders_without_refund,
           members.bigint_sum(o.paid_fen - o.refunded_fen) AS total_spend,
           min(o.occurred_at) AS first_order_at,
           min((date_part('epoch', o.occurred_at) * 1000000)::bigint * 16
               + {_CHANNEL_NUMBER}) AS first_key,
           max(o.occurred_at) AS last_order_at,
           count(*) FILTER (WHERE o.occurred_at >= CAST(:year_from AS timestamptz)) AS orders_365,
           count(*) FILTER (WHERE o.occurred_at >= {_WINDOW}) AS f,
           coalesce(members.bigint_sum(o.paid_fen - o.refunded_fen) FILTER (WHERE o.occurred_at >= {_WINDOW}), 0) AS m,
           max(o.paid_fen - o.refunded_fen) FILTER (WHERE o.occurred_at >= {_WINDOW}) AS largest,
           count(*) FILTER (WHERE o.occurred_at >= {_WINDOW} AND o.discount_fen > 0) AS discounted_orders,
           members.bigint_sum(o.lines_gross_fen) FILTER (WHERE o.occurred_at >= {_WINDOW}) AS gross,
           members.bigint_sum(o.lines_discounted_fen) FILTER (WHERE o.occurred_at >= {_WINDOW}) AS discounted_gross,
           members.bigint_sum({_premium("o")}) FILTER (WHERE o.occurred_at >= {_WINDOW}) AS premium_gross,
           coalesce(bool_or(o.gift_lines) FILTER (WHERE o.occurred_at >= {_WINDOW}), false) AS gift,
           min(o.occurred_at) FILTER (WHERE o.occurred_at >= CAST(:won_back_from AS timestamptz)) AS return_at,
           max(o.occurred_at) FILTER (WHERE o.occurred_at < CAST(:won_back_from AS timestamptz)) AS before_return_at
    FROM members.orders o
    WHERE o.occurred_at < {_UNTIL} AND o.refunded_fen < o.paid_fen AND {_in_shard("o.member_id")}
    GROUP BY o.member_id
),
beh AS (
    SELECT b.member_id,
           max(b.occurred_at) FILTER (WHERE b.kind = 'visit') AS last_visit_at,
           max(b.occurred_at) FILTER (WHERE b.kind = 'add_to_cart') AS last_cart_at,
           min(b.occurred_at) FILTER (WHERE b.kind = 'follow_official_account') AS followed_at,
           (min(b.page) FILTER (WHERE b.kind = 'follow_official_account')
               < max(b.page) FILTER (WHERE b.kind = 'follow_official_account')) AS two_accounts,
           coalesce(bool_or(b.activity LIKE 'contest%'), false) AS contest,
           coalesce(bool_or(b.activity LIKE 'quiz%' OR b.activity LIKE 'new_product%'), false) AS quiz,
           coalesce(bool_or(b.activity LIKE 'feedback%'), false) AS feedback,
           coalesce(bool_or(b.activity LIKE 'course%' OR b.activity LIKE 'health_talk%'), false) AS course,
           coalesce(bool_or(b.activity LIKE 'bring_friend%'), false) AS bring_friend
    FROM members.behaviour_events b
    WHERE b.occurred_at < {_UNTIL} AND {_in_shard("b.member_id")}
    GROUP BY b.member_id
)
SELECT s.id AS member_id, s.registered_at < {_UNTIL} AS registered, s.status, s.consent, s.source_channel,
       coalesce(a.orders_total, 0) AS orders_total,
       coalesce(a.orders_two_years, 0) AS orders_two_years,
       coalesce(a.orders_without_refund, 0) AS orders_without_refund,
       coalesce(a.total_spend, 0) AS total_spend,
       a.first_order_at, a.last_order_at, a.first_key,
       (a.first_order_at AT TIME ZONE 'Asia/Shanghai')::date AS first_day,
       (a.last_order_at AT TIME ZONE 'Asia/Shanghai')::date AS last_day,
       coalesce(a.orders_365, 0) AS orders_365,
       coalesce(a.f, 0) AS f, coalesce(a.m, 0) AS m, a.largest,
       coalesce(a.discounted_orders, 0) AS discounted_orders,
       a.gross, a.discounted_gross, a.premium_gross,
       coalesce(a.gift, false) AS gift,
       (a.return_at AT TIME ZONE 'Asia/Shanghai')::date AS return_day,
       (a.before_return_at AT TIME ZONE 'Asia/Shanghai')::date AS before_return_day,
       CAST(:as_of AS date) - (a.last_order_at AT TIME ZONE 'Asia/Shanghai')::date AS recency,
       bh.last_visit_at, bh.last_cart_at, bh.followed_at, coalesce(bh.two_accounts, false) AS two_accounts,
       coalesce(bh.contest, false) AS contest, coalesce(bh.quiz, false) AS quiz,
       coalesce(bh.feedback, false) AS feedback, coalesce(bh.course, false) AS course,
       coalesce(bh.bring_friend, false) AS bring_friend
FROM members.members s
LEFT JOIN agg a ON a.member_id = s.id
LEFT JOIN beh bh ON bh.member_id = s.id
WHERE {_in_shard("s.id")} AND (s.registered_at < {_UNTIL} OR a.f > 0)
"""  # noqa: S608

# The rest of the date's baseline from the facts of a refresh in one shard (see PREMIUM).
BASELINE_OF_FACTS = f"WITH per AS (SELECT recency AS r, f, m FROM {FACTS_TABLE} WHERE f > 0)\n{_summary(_PREMIUM)}"  # noqa: S608

# Scores, segment, stage and consumer types from the shard's facts and the date's baseline, then in the same
# statement the upsert of the changed rows, the stage transitions and their events.
REFRESH = f"""
WITH {PARAMS},
base AS (SELECT * FROM members.insight_baselines WHERE as_of = (SELECT as_of FROM p)),
scored AS (
    SELECT f.*,
           CASE WHEN f.f > 0 THEN 5 - ((f.recency > b.r_bounds[1])::int + (f.recency > b.r_bounds[2])::int
                                       + (f.recency > b.r_bounds[3])::int + (f.recency > b.r_bounds[4])::int) END
               AS r_score,
           CASE WHEN f.f > 0 THEN 1 + ((f.f > b.f_bounds[1])::int + (f.f > b.f_bounds[2])::int
                                       + (f.f > b.f_bounds[3])::int + (f.f > b.f_bounds[4])::int) END AS f_score,
           CASE WHEN f.f > 0 THEN 1 + ((f.m > b.m_bounds[1])::int + (f.m > b.m_bounds[2])::int
                                       + (f.m > b.m_bounds[3])::int + (f.m > b.m_bounds[4])::int) END AS m_score,
           CASE WHEN f.f > 0 THEN
               CASE WHEN f.m > b.average_m THEN 'important_' ELSE 'general_' END ||
               CASE (f.recency < b.average_r, f.f > b.average_f)
                   WHEN (true, true) THEN 'value' WHEN (true, false) THEN 'develop'
                   WHEN (false, true) THEN 'keep' ELSE 'retain' END
           END AS segment,
           CASE
               WHEN f.status = 'closed' OR f.consent = 'withdrawn' THEN 'closed'
               WHEN f.return_day IS NOT NULL AND f.before_return_day IS NOT NULL
                    AND f.return_day - f.before_return_day >= CAST(:away_days AS integer) THEN 'won_back'
               WHEN f.recency > CAST(:dormant_days AS integer) THEN 'churned'
               WHEN f.recency > CAST(:at_risk_days AS integer) THEN 'dormant'
               WHEN f.recency > CAST(:active_days AS integer) THEN 'at_risk'
               WHEN f.orders_365 >= CAST(:loyal_orders AS integer) AND f.f > 0 AND f.m > b.m_bounds[4] THEN 'high_value'
               WHEN f.orders_365 >= CAST(:loyal_orders AS integer) THEN 'loyal'
               WHEN f.orders_total >= 2 THEN 'repeat'
               WHEN f.orders_total = 1 THEN 'new'
               ELSE 'prospect'
           END AS stage,
           array_remove(ARRAY[
               CASE WHEN f.gross > 0 AND coalesce(f.discounted_gross, 0) > CAST(:discount_share AS float8) * f.gross
                    THEN 'discount' END,
               CASE WHEN f.f BETWEEN 1 AND CAST(:stock_up_orders AS integer)
                         AND f.m::float8 / f.f >= CAST(:stock_up_factor AS float8) * b.average_order_fen
                    THEN 'stock_up' END,
               CASE WHEN f.f > 0 AND f.discounted_orders >= CAST(:campaign_share AS float8) * f.f
                         AND f.m::float8 / f.f >= b.average_order_fen THEN 'campaign' END,
               CASE WHEN f.contest THEN 'honour' END,
               CASE WHEN f.quiz THEN 'curious' END,
               CASE WHEN f.last_cart_at
                         >= (SELECT until FROM p) - make_interval(days => CAST(:undecided_days AS integer))
                         AND f.f <= 1 THEN 'undecided' END,
               CASE WHEN f.source_channel = 'short_video_live' THEN 'seeded' END,
               CASE WHEN f.gift THEN 'gifting' END,
               CASE WHEN f.feedback OR f.two_accounts THEN 'circle' END,
               CASE WHEN f.course THEN 'anxious' END,
               CASE WHEN f.bring_friend OR f.source_channel IN ('referral_campaign', 'friend_invite')
                    THEN 'spreader' END
           ]::varchar[], NULL) AS consumer_types
    FROM {FACTS_TABLE} f
    LEFT JOIN base b ON true
    WHERE f.registered
),
staged AS (
    SELECT s.*, {_CURRENT},
           CASE WHEN cur.as_of = (SELECT as_of FROM p) THEN cur.previous_as_of ELSE cur.as_of END AS prev_as_of,
           CASE WHEN cur.as_of = (SELECT as_of FROM p) THEN cur.previous_stage ELSE cur.stage END AS prev_stage,
           CASE WHEN cur.as_of = (SELECT as_of FROM p) THEN cur.previous_stage_since ELSE cur.stage_since END
               AS prev_since
    FROM scored s
    LEFT JOIN members.member_insights cur ON cur.member_id = s.member_id
),
computed AS (
    SELECT st.member_id, (SELECT as_of FROM p) AS as_of, st.stage,
           CASE WHEN st.stage = st.prev_stage THEN st.prev_since ELSE (SELECT as_of FROM p) END AS stage_since,
           st.prev_as_of AS previous_as_of, st.prev_stage AS previous_stage, st.prev_since AS previous_stage_since,
           st.recency AS recency_days, st.f AS frequency, st.m AS monetary_fen, st.r_score, st.f_score, st.m_score,
           st.segment, st.largest AS largest_order_fen,
           CASE WHEN st.gross > 0 THEN coalesce(st.discounted_gross, 0)::float8 / st.gross END AS discount_share,
           CASE WHEN st.gross > 0 THEN coalesce(st.premium_gross, 0)::float8 / st.gross END AS premium_share,
           st.orders_total, st.orders_two_years, st.orders_without_refund, st.total_spend AS total_spend_fen,
           CASE WHEN st.orders_total > 0 THEN round(st.total_spend::numeric / st.orders_total)::bigint END
               AS average_order_fen,
           st.first_order_at,
           ({_CHANNEL_ARRAY})[(st.first_key % 16)::int] AS first_order_channel,
           st.last_order_at, st.last_visit_at, st.last_cart_at, st.followed_at,
           CASE WHEN st.orders_total >= 2
                THEN st.last_day + round((st.last_day - st.first_day)::numeric / (st.orders_total - 1))::int END
               AS expected_repurchase_on,
           st.consumer_types,
           {_CURRENT_OF_STAGED}
    FROM staged st
    WHERE st.cur_as_of IS NULL OR st.cur_as_of <= (SELECT as_of FROM p)
),
upserted AS (
    INSERT INTO members.member_insights AS i (
        member_id, as_of, stage, stage_since, previous_as_of, previous_stage, previous_stage_since,
        recency_days, frequency, monetary_fen, r_score, f_score, m_score, segment, largest_order_fen,
        discount_share, premium_share, orders_total, orders_two_years, orders_without_refund, total_spend_fen,
        average_order_fen, first_order_at, first_order_channel, last_order_at, last_visit_at, last_cart_at,
        followed_at, expected_repurchase_on, consumer_types
    )
    SELECT c.member_id, {_COMPUTED}
    FROM computed c
    WHERE c.cur_as_of IS NULL OR ({_STORED}) IS DISTINCT FROM ({_COMPUTED})
    ON CONFLICT (member_id) DO UPDATE SET {_SET}
    WHERE i.as_of <= excluded.as_of
      AND ({_OLD}) IS DISTINCT FROM ({_NEW})
    RETURNING i.member_id, i.stage, i.previous_stage
),
moved AS (
    INSERT INTO members.stage_transitions AS t (member_id, as_of, from_stage, to_stage)
    SELECT u.member_id, (SELECT as_of FROM p), u.previous_stage, u.stage
    FROM upserted u
    WHERE u.stage IS DISTINCT FROM u.previous_stage
    ON CONFLICT (member_id, as_of) DO UPDATE SET from_stage = excluded.from_stage, to_stage = excluded.to_stage
    WHERE (t.from_stage, t.to_stage) IS DISTINCT FROM (excluded.from_stage, excluded.to_stage)
    RETURNING t.member_id, t.from_stage, t.to_stage
),
unmoved AS (
    DELETE FROM members.stage_transitions t
    USING upserted u
    WHERE t.member_id = u.member_id AND t.as_of = (SELECT as_of FROM p)
      AND u.stage IS NOT DISTINCT FROM u.previous_stage
    RETURNING t.member_id
),
events AS (
    INSERT INTO members.outbox (id, type, version, aggregate_id, occurred_at, data)
    SELECT gen_random_uuid(), 'member.stage-changed', 1, mv.member_id::text, now(),
           jsonb_build_object('member_id', mv.member_id::text, 'from_stage', mv.from_stage,
                              'to_stage', mv.to_stage, 'as_of', (SELECT as_of FROM p)::text)
    FROM moved mv
    RETURNING 1
)
SELECT (SELECT count(*) FROM computed) AS members,
       (SELECT count(*) FROM moved) AS moved,
       (SELECT count(*) FROM unmoved) AS unmoved,
       (SELECT count(*) FROM events) AS events
"""  # noqa: S608
