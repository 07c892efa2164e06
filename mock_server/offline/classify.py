"""Inquiry type: technical, billing, shipping, product, account or general.

Each category has a lexicon of weighted words and phrases. The message is scored against all
six and the highest total wins. Three refinements keep it sensible:

* **Intent phrases weigh more than topic nouns.** In "my package arrived damaged and I want a
  refund" the customer's *ask* is money back, so "want a refund" (billing) outweighs "package"
  (shipping); "send a replacement" would tip it back to shipping.
* **Ties** go to the more specific category, in the order of ``TIE_ORDER``.
* **General is the fallback.** A compliment wrapped around a real request ("Love the update!
  How do I turn on dark mode?") goes to the request's category when that has real evidence.
* **A minimum score.** Below ``MIN_SCORE`` nothing is specific enough and the answer is
  ``general`` (the safe default the spec asks for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from support_lib.workflow import INQUIRY_TYPES

from .text import Lexicon, normalize, weighted

CATEGORIES = INQUIRY_TYPES  # the workflow's vocabulary, defined once beside its node
TIE_ORDER = ("billing", "account", "shipping", "technical", "product", "general")
MIN_SCORE = 1.5
SPECIFIC_OVER_GENERAL = 2.5  # "Love the app! How do I export?" is technical, not general

# Each line is "weight: term, term, ..." (see text.weighted); * matches the rest of a word.
LEXICONS: dict[str, Lexicon] = {
    "technical": Lexicon(
        weighted("""
            4: error code, black screen, blank screen, white screen, 500 error, server error
            3: crash*, bug, bugs, buggy, error, errors, error message, glitch*, freez*, froze
            3: stopped working, won't load, not loading, won't open, won't turn on, won't start
            3: won't connect, reinstall*, firmware, driver*, sync*, api, timeout, timed out
            3: battery drain*, overheat*, keeps restarting, troubleshoot*, broken link, 404
            3: not syncing, bug report, data loss, lost my data, malfunction*, won't charge
            3: factory reset, factory settings, calibrat*, shortcut*, flicker*, won't pair
            2: guest network, webhook*, enable, disable, frozen, not working, isn't working
            2: doesn't work, does not work, install*, uninstall*, software, browser, configure
            2: configuration, set up, setup, connect*, bluetooth, wifi, wi-fi, integration
            2: export*, upload*, lag*, drains, reboot*, feature isn't, notifications aren't
            2: dashboard, performance, pairing
            1.5: network, loading, update, updated, pair*, download*, slow, restart*, button
            1.5: charging, load*
            1: app, application, website, import*, screen, how do i, how to, how can i, fix
            1: settings page, device, printer, turn on
            0.5: page
        """)
    ),
    "billing": Lexicon(
        weighted("""
            5: charged twice, double charged, double charge, duplicate charge, overcharge*
            5: unauthorized charge, card was declined
            4: want a refund, money back, cancel my subscription, cancel the subscription
            4: payment method
            3: charge, charged, charging me, payment, payments, refund*, reimburse*, late fee
            3: invoice*, bill, billing, billed, subscription fee, credit card, debit card
            3: bank statement, auto-renew*, prorat*, declined, chargeback, paypal, monthly fee
            3: billing address, store credit, charged for
            2: charges, pay, paid, paying, receipt, subscription, fee, fees, bank, transaction
            2: renew*, tax, vat, dispute, free trial, annual plan, price match, gift card, owe
            2: money
            1.5: statement, discount, coupon, promo code, downgrade, unsubscribe, trial, balance
            1: price, pricing, cost, costs, card, promo, plan, $, dollars
        """)
    ),
    "shipping": Lexicon(
        weighted("""
            4: tracking number, hasn't arrived, has not arrived, not arrived, never arrived
            4: didn't arrive, where is my order, where's my order, shipping address
            4: delivery address, lost in the mail, return label, estimated delivery
            4: still waiting for my order, haven't received my order, not received my order
            3: delivery, deliver, delivered, deliveries, shipping, shipped, shipment, tracking
            3: package, parcel, courier, in transit, fedex, usps, dhl, royal mail, missing item
            3: missing items, wrong item, send it back, expedite*, dispatch*, doorstep, customs
            3: order status
            2.5: locate*, ship, ships
            2: track, carrier, arrive, arrived, arrives, arriving, transit, ups, postal
            2: post office, wrong size, wrong color, replacement, exchange, overnight, warehouse
            2: porch, left at, outside the us, to canada, pickup, haven't received
            2: never received
            1.5: address, express, signature, international, abroad, pick up
            1: my order, mail, box
        """)
    ),
    "product": Lexicon(
        weighted("""
            4: compatible, compatibility, back in stock, feature request
            3: product page, listing, power bank, mah, voltage, built-in, gps, capacity, feature
            3: features, recommend*, specs, specification*, dimensions, size chart
            3: difference between, compare, comparison, in stock, available in, made of
            3: waterproof, water resistant, battery life, which model, dark mode, roadmap
            3: new product, ingredients, allergen*, add support, please add, offline mode
            3: dishwasher safe, machine washable, does it come, sound quality, build quality
            3: picture quality
            2.5: come in, comes in, worth it, ever owned, work with, works with
            2: doesn't have, does not have, false advertising, support for, supports, sizing, vs
            2: versus, stock, availability, warranty, material, materials, which one, suitable
            2: launch, pro version, accessor*, integrate with, durable, free version, sso
            1.5: weight, color*, colour*, model, models, does it, can it, manual, upgrade to
            1.5: bundle, tier
            1: does the, storage, version, premium, product, products, options
            1: would it be possible, how long does the, quality, plans
            0.5: is it
        """)
    ),
    "account": Lexicon(
        weighted("""
            5: reset my password, forgot my password, reset password, delete my account
            4: password, 2fa, two-factor, two factor, verification code, one-time code
            4: change my email, update my email, email change, locked out, close my account
            4: security question, hacked, unauthorized access, someone accessed, merge accounts
            4: access my account, account suspended, passkey, confirmation code, verify my email
            4: logs me out, log me out
            3: login, log in, logging in, log into, sign in, signing in, sign into, logged out
            3: authenticat*, verification email, username, user name, account settings
            3: deactivat*, delete my data, privacy settings, change my name, two accounts
            3: credentials, gdpr, notification preferences, second user, add a user
            3: pending verification, id verification, verify my identity, restor* my account
            3: logged into, logged in from
            2: verification, identity, user, users, family member*, preferences, logged in
            2: profile, email address, new email, locked, sign up, signup, register*
            2: notification settings, phone number, suspended, personal data
            2: unsubscribe from emails
            1.5: account, newsletter, my account
            1: settings
        """)
    ),
    "general": Lexicon(
        weighted("""
            4: opening hours, business hours, are you open, just wanted to say, just want to say
            4: wanted to say thank, keep up the good work, where are you located, your hours
            4: hours of operation, store hours, support hours, service hours
            3: open on, store near, feedback, compliment*, great service, great job, showroom
            3: internship*, congrat*, slow replies, slow responses, response times, kudos
            3: shout out, general question, careers, hiring, partnership*, headquarters
            3: who owns, happy customer, founded
            2: holiday, location, locations, phone support, suggestion, love your, well done
            2: job, jobs, partner, press, sustainab*, privacy policy, terms of service, charity
            2: donate, social media, survey, gift wrap*, podcast, ceo, openings, physical store
            2: gone downhill, weekends, customer service
            1.5: stores, company, newsletter, review, support team, visit, loyal customer
            1: contact, talk to someone, thank you, team, amazing, wonderful, excellent, based
            0.5: question, thanks
        """)
    ),
}


# Patterns a word list cannot express: (cue name, regex, category, weight).
PATTERN_BOOSTS: list[tuple[str, re.Pattern, str, float]] = [
    ("does it support/work with ...", re.compile(
        r"\b(?:does|do|can|will|is|are)\s+(?:the|it|your|this|they|these)\b[^.?!]{0,40}"
        r"\b(?:support|work with|come with|include|fit|be used|compatible)\b"), "product", 3),
    ("it supports/works with ...", re.compile(
        r"\b(?:they|it|this|these|that)\s+(?:support|supports|work with|works with|include|"
        r"includes|come with|comes with)\b"), "product", 2),
    ("voltage", re.compile(r"\b\d{2,3}\s?v\b|\bvolts?\b"), "product", 3),
    ("how do I <do something>", re.compile(
        r"\b(?:how (?:do|can) i|how to|explain how|show me how)\b[^.?!]{0,40}\b(?:export|import|"
        r"set up|install|connect|configure|use|enable|disable|sync|print|upload|download|"
        r"calibrate|reset|turn on|turn off|update|pair)\b"), "technical", 2),
]  # fmt: skip
# Nouns for physical products add a little weight to "product" (specs, quality questions).
PRODUCT_NOUNS = ("earbuds", "headphones", "blender", "laptop", "jacket", "watch", "smartwatch",
                 "speaker", "camera", "shoes", "mattress", "tablet", "monitor", "kettle", "charger",
                 "backpack", "router", "keyboard")  # fmt: skip


@dataclass(frozen=True)
class Classification:
    label: str
    scores: dict[str, float]
    cues: dict[str, list[str]]


def classify_inquiry(text: str) -> Classification:
    """Score the message against each category lexicon and pick the best (see module doc)."""
    clean = text or ""
    scores: dict[str, float] = {}
    cues: dict[str, list[str]] = {}
    for category, lexicon in LEXICONS.items():
        hits = lexicon.find(clean)
        scores[category] = sum(h.weight for h in hits)
        cues[category] = [h.term for h in hits]
    low = normalize(clean)
    for name, pattern, category, weight in PATTERN_BOOSTS:
        if pattern.search(low):
            scores[category] += weight
            cues[category].append(name)
    for noun in PRODUCT_NOUNS:
        if re.search(rf"\b{noun}\b", low):
            scores["product"] += 1.5
            cues["product"].append(noun)
            break
    # Highest score wins; equal scores go to the category listed first in TIE_ORDER.
    best = max(TIE_ORDER, key=lambda c: (scores[c], -TIE_ORDER.index(c)))
    if best == "general":
        specific = max(TIE_ORDER[:-1], key=lambda c: (scores[c], -TIE_ORDER.index(c)))
        if scores[specific] >= SPECIFIC_OVER_GENERAL:
            best = specific
    if scores[best] < MIN_SCORE:
        best = "general"
    return Classification(best, scores, cues)
