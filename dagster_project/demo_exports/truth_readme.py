"""The README written next to the ground-truth tables."""

TRUTH_README = """\
# Ground truth of the demo exports

Written by `dagster_project.demo_exports`. The pipeline never reads this folder; evaluation does.
All tables are Parquet. Times are UTC.

## people.parquet — one row per simulated person

- `person_id` (P0000000…), true identity: `first_name`, `last_name`, `email` (canonical; for a few
  people a shared company mailbox, `email_is_shared`), `alternative_email` (the other address they use),
  `phone_e164`, address (`street`, `apartment`, `city`, `province`, `postcode` before any move;
  `moved_at` when they moved and `moved_to_*` the new address, null for people who never move),
  `household_id` (person_id of the household head, null when alone),
  `birthdate`, `country`, `currency`.
- Acquisition: `acquisition_date`, `acquired_before_window`, `in_crm` (false: only ever a shopper),
  `buys_at_acquisition`.
- Latent parameters. Purchases follow BG/NBD: `lambda_per_year` ~ Gamma(r=0.9, alpha=0.22), and after
  each purchase the person drops out with probability p (`p_dropout` ~ Beta(a=1.2, b=7.0) at the start;
  every bad support ticket raises it: p <- min(0.95, 1.8 p + 0.05), and 12% of bad tickets make an
  active person leave at once; `p_dropout_at_end` is p at the last extract date). Order values follow
  Gamma-Gamma: an order is Gamma(shape 6, rate `spend_rate_nu`), `spend_mean_usd` = 6 / nu
  (nu ~ Gamma(shape 4, rate 37.5)). `email_engagement` (human open probability, higher for heavy buyers,
  x0.15 once churned), `apple_mail_privacy` (machine opens), `support_rate_per_year`, `support_bad_prob`.
- Preferences: `preferred_channel`, `lead_source`, `interests` (the categories they mostly buy),
  `stated_interests` (what they tell the CRM, exported as `Interests` by those who state any: about
  one in five names a category they do not favour, one in ten of those with several leaves one out),
  `taste` (a unit vector; a product suits them by the cosine with its own, in product_taste.parquet).
- State at the last extract date: `is_alive_at_end`, `dropout_date`, `email_opt_out_at_end`,
  `personalization_opt_out_at_end`, `email_unsubscribed_at_end` (any of their addresses unsubscribed,
  group-unsubscribed or spam-reported in SendGrid), `erasure_requested`.
- History: `purchases_before_window`, `purchases_in_window`, `revenue_usd_in_window`,
  `tickets_in_window`, `bad_tickets_in_window`.
- Purchases and revenue are those of the world that happened: for the experiment's audience, the arm
  they were assigned (experiment_assignments.parquet).
- Future (simulated, never exported): `purchases_next_{30,90,365}d` (orders placed, cancelled ones
  included) and `revenue_usd_next_{30,90,365}d` (Total minus Refunded Amount, 0 for cancelled or voided
  orders, converted at the published rate of the order's creation date; test orders excluded).
- `source_record_count`, `is_observed`: how many rows of source_records.parquet belong to the person
  (people acquired before the window who never show up in it have none).

## source_records.parquet — one row per exported record key

`source` is `crm_contact` (source_key = Contact ID), `shopify_order` (order Id), `sendgrid_recipient`
(the address exactly as written in the events), `zendesk_requester` (requester id) or `zendesk_ticket`
(ticket id). `person_id` is null for staff test orders (tag `test`). `is_shared` marks an address or
requester used by several people (a generic mailbox); `person_id` is then its first user.
`record_classes` (comma-separated, empty for a clean record) says how the record is hard to link:
the slips typed into it (`typo` in a name, street or postcode; `nickname`; `swap` of first and last
name; `missing_field`: a first name left empty or cut to an initial, or a birth date left out;
`birthdate_error`: a digit wrong, day and month swapped, the year off by one, or another date
altogether; `address_variant`: street type spelt out or abbreviated, a unit added, the number left
out; `compound_surname`: one part of a double surname), `moved_address` when it shows its person's address after a move, and its
person's `household` (lives with others at one address) and `namesake` (another person has the same
first and last name). Rates: `RecordCorruption` in `record_corruption.py`, scaled by
`cxp generate --corruption-scale`.

## erasure_requests.parquet

`request_id`, `person_id`, `email` (as sent in the request), `received_at`. Nothing about the person
newer than the request was exported.

## experiment_assignments.parquet — one row per person the experiment assigned

The email tool ran one randomized experiment, "Reactivation offer" (`experiment_id`
`reactivation-offer-<year of its start>`), logged in `experiments/assignments_*.csv`. It starts 75 days
before the last extract date (a third into windows shorter than 120 days). Its audience: people acquired
before the start with a purchase before it, an email address no one else uses, not opted out of email
and not erased by then. Each was put in `control` or `discount_15` at random (half each) and first
exposed (`assigned_at`) over the first week as the send ramped up. A person's window is
[`assigned_at`, `assigned_at` + 60 days).

- `person_id`, `person_index`, `arm`, `assigned_at`, `user_id` (the id the tool keys them by: a CRM
  person's email address, a shopper's checkout address, or for about 15% of CRM people their primary
  `Contact ID`; log rows may show an address in other case or with stray spaces). Some addresses
  appear in no other export of the window: shoppers outside the CRM whose last orders predate it.
- The true effect: `is_responder` (latent, about half), `rate_multiplier`: a responder's daily purchase
  rate is multiplied by 1 + `rate_multiplier` on the 59 whole days of their window after the assignment
  day while alive: +2.0 for `lambda_per_year` below 2, +0.4 up to 10, -0.4 above 10 (these frequent
  buyers wait for the next discount); 0 for everyone else. `alive_effect_days`, and
  `expected_incremental_orders` = multiplier x lambda_per_year / 365 x alive_effect_days, the expected
  change in orders if treated (the target of an uplift model), and
  `profile_expected_incremental_orders`, the same before the responder coin (0.5 x a responder's
  multiplier x ...): the most any model of the person's true rate and lifetime could know.
- Potential outcomes, both exact: `orders_if_control`, `orders_if_treated` (orders placed in the window,
  cancelled ones included), `revenue_if_control_usd`, `revenue_if_treated_usd` (net revenue in the window,
  computed as `revenue_usd_next_*d` in people.parquet), `clv_realized_if_*_usd` (net revenue from
  `assigned_at` to the end of the last extract date). Orders of both worlds were priced, cancelled and
  refunded alike; only the assigned arm's orders were exported, and people.parquet counts only those.
  `orders_365d_before`: purchases in the 365 days before the assignment day (the same in both worlds,
  including orders placed before the export window).
- `in_two_arms`: the tool also logged the person once in the other arm (a defect, in the window and
  before any erasure); `erased`: their erasure request arrived by the last extract date (assignment
  rows after it were not exported); `is_analyzable`: neither. People whose request arrived before the
  start are not in the audience.

## experiment_effects.parquet — one row per experiment and metric

`metric` is `conversion` (share with an order in the window), `repeat_purchase_rate` (two or more),
`retention` (among people with a purchase in the 365 days before their assignment, the share with an
order in the window), `revenue_per_customer`, `average_order_value` (revenue over orders, summed over
people) or `clv_realized`. `control_value` and `treated_value` are the metric over all analyzable people
in the control world and in the treated world, `effect` their difference: the true sample average
effect an unbiased estimate from the log and the orders is judged against. Counts: `audience`
(assigned people), `analyzable`, `analyzable_control`, `analyzable_treated`, `in_two_arms`,
`unknown_id_rows` (exported rows whose `user_id` belongs to nobody) and `duplicate_exposure_rows`
(exported repeat exposures in the person's own arm).

## product_taste.parquet — one row per product (handle)

`kind` (`Tent`), `series` (its product line, `Juniper`: products of one line share part of their
taste vector), `taste`, `rebuy_days` (a consumable's cycle; 0 otherwise), `complement_handles` (the
products its buyers come back for). Each order line is drawn among popular products of a category
the buyer favours (three lines in four), by taste and by nearness to the price they mean to pay;
then, order by order, a consumable due (0.8 to 3 cycles after it was bought) is re-bought on the
first line with probability 0.7, and an order within 120 days of the previous one brings a
complement of one of its products on its last line with probability 0.35 (`repeat_purchases.py`).

## future_purchases.parquet — one row per line item bought after the last export

`person_id`, `sku`, `handle`, `purchased_date`, `days_after_window` (1 = the day after the last
extract date), `quantity`, `is_cancelled`. Never exported: what recommendations are judged against.

## products.parquet — one row per variant of the catalog

`sku` (null for the few variants without one, which are never sold), `handle`, `title`, `option_value`,
`category` (the category the shop files the product under: one of the CRM Interests; the export
states it only through `Type`, tags or Shopify's taxonomy path, which for a few kinds names another
department, e.g. a water bottle is drinkware and a board book a print book), `vendor`,
`taxonomy_path` (as exported; null where the export leaves it empty), `launch_price_usd`,
`sales_weight` (the share of line items it is drawn for, before the price fit and availability:
a long tail), `created_date` (created as a draft), `launch_date` (made active), `archive_date` (null
when never archived within the simulation), `in_products_export` (false for the few products sold
through a channel the products export does not cover: their SKUs appear only on orders),
`is_inventory_tracked`. Products launch before, during and after the window: the catalog's SKUs
(`generate_demo_exports(catalog_skus=...)`, 2,000 by default) cover them all.

## product_availability.parquet — one row per spell a product could be bought

`handle`, `available_from`, `available_until` (exclusive; null when still on sale at the end of the
simulated future). A product can be bought while active and in stock: order lines buy only such
products, at that day's price (sales mark prices down; lasting price changes move them up).

## Deliberate quirks of the exports

The first CRM file is an initial load: it also holds every contact created before the window, in its
state at the window start. A day missing from a source is a failed export; its records arrive in the
next delivered file (fx rates of that day are simply absent). The first products file is an initial
load of every product created before the window, archived ones included; later files carry the
products that changed that day (drafts, launches, price changes and sales, stock-outs and restocks,
archiving). Some products have no description, no taxonomy path, no `Type` or no category tag,
untracked inventory (empty quantity), or an oversold (negative) quantity while out of stock. The
experiment log holds every exposure the tool recorded: about 30% of people come back 1 to 3 times in
their arm (the first row stands), about 0.3% also once in the other arm, a handful of rows (0.3% of
the audience) carry made-up addresses that belong to nobody, and `experiment_name` is empty on about
8% of rows.
"""
