"""Search quality: queries a marketer would type, each with the template it should find in the
top five (issue #15). The figure is the share of queries that do; the misses are printed so the
decision note can list them."""

from __future__ import annotations

import uuid

from beez.automation.library.loader import load_library
from beez.automation.service import AutomationService
from beez.automation.template_service import TemplateService
from beez.kit.grpc.identity import Identity
from tests.automation.conftest import AutomationEnv

QUERIES: list[tuple[str, str]] = [
    ("birthday discount", "birthday-gift-code"),
    ("abandoned cart sms", "abandoned-cart-three-step"),
    ("csat after ticket closed", "csat-after-conversation-closed"),
    ("win back churned", "win-back-churned-customers"),
    ("hot lead slack alert", "hot-lead-alert"),
    ("lead scoring form budget", "score-leads-from-demo-answers"),
    ("demo no-show", "demo-booked-confirm-and-follow-up"),
    ("trial ending upgrade", "trial-ending-convert-or-rescue"),
    ("route leads by country", "route-sales-enquiries-by-region"),
    ("proposal follow up", "proposal-follow-up-sequence"),
    ("pricing page book a call", "pricing-click-meeting-invite"),
    ("closed won celebration", "new-customer-celebrate-and-hand-over"),
    ("opportunity crm sync", "opportunity-stage-qualify-and-sync"),
    ("high value cart whatsapp", "high-value-cart-concierge"),
    ("meeting reminder", "meeting-reminder-day-before"),
    ("stalled deal", "stalled-deal-alert"),
    ("urgent escalation", "escalate-urgent-messages"),
    ("route tickets by topic", "route-conversations-by-topic"),
    ("sla breach", "sla-first-reply-breach"),
    ("faq auto reply whatsapp", "knowledge-base-whatsapp-answers"),
    ("ticket acknowledgement", "support-request-auto-acknowledgement"),
    ("unhappy customer low score", "csat-detractor-recovery"),
    ("vip priority support", "vip-whatsapp-priority-routing"),
    ("angry customer sentiment", "negative-sentiment-escalation"),
    ("order confirmation", "order-confirmation-email-and-whatsapp"),
    ("shipping tracking sms", "shipping-sms-and-delivery-check"),
    ("review request", "review-request-split-test"),
    ("cross-sell accessories", "cross-sell-accessories-per-item"),
    ("back in stock", "back-in-stock-alert"),
    ("low stock reorder", "low-stock-team-alert"),
    ("loyalty tier points", "loyalty-gold-tier-upgrade"),
    ("referral reward", "referral-reward-on-conversion"),
    ("reorder consumables", "replenishment-reminder"),
    ("welcome series", "welcome-series-three-emails"),
    ("onboarding checklist", "onboarding-checklist-drip"),
    ("renewal reminder", "renewal-reminders-30-7-1"),
    ("re-engage inactive", "re-engage-inactive-contacts"),
    ("customer anniversary", "customer-anniversary-thank-you"),
    ("email course drip", "educational-weekly-course"),
    ("double opt-in newsletter", "newsletter-double-opt-in"),
    ("webinar replay", "webinar-registration-journey"),
    ("ebook download follow up", "content-download-nurture-to-sales"),
    ("black friday sale", "black-friday-sale-sequence"),
    ("product launch waitlist", "product-launch-vip-early-access"),
    ("browse abandonment", "browse-abandonment-nudge"),
    ("gdpr unsubscribe", "gdpr-unsubscribe-everywhere"),
    ("hard bounce cleanup", "hard-bounce-list-cleanup"),
    ("enrich contacts company data", "enrich-new-contacts"),
    ("weekly report slack", "weekly-report-to-slack"),
    ("backup export nightly", "nightly-warehouse-export"),
    ("abandonned cart", "abandoned-cart-three-step"),
    ("birthdy", "birthday-gift-code"),
]
FLOOR = 0.9
"""The share of queries whose template must be in the top five."""


async def test_search_finds_what_marketers_ask_for(env: AutomationEnv) -> None:
    runtime = env.svc.runtime
    service = TemplateService(
        runtime.db,
        runtime.clock,
        AutomationService(runtime.db, runtime.topology, runtime.clock),
        load_library(),
    )
    who = Identity(org_id=f"org_{uuid.uuid4().hex[:8]}", user_id="u")
    misses = []
    for query, expected in QUERIES:
        found = [row.id for row, _ in await service.search(who, query, "", 5)]
        if expected not in found:
            misses.append((query, expected, found))
    share = 1 - len(misses) / len(QUERIES)
    hits = len(QUERIES) - len(misses)
    print(f"search: {hits}/{len(QUERIES)} queries find their template in the top 5 ({share:.0%})")
    for miss in misses:
        print("miss:", miss)
    assert share >= FLOOR, misses
