"""Reply templates for the offline teaching model, one per customer intent.

The offline model answers a support message in two moves: it decides the customer's concrete
*intent* (one of the 51 labels in ``support_lib/data/corpus/GUIDE.md``, grouped under the six
inquiry types) and then fills in the template for that intent. This module holds the templates
and nothing else, so a learner can read exactly what the offline model "knows" how to say.

Each ``IntentReply`` has:

* ``understood`` - one sentence that restates what the customer needs, in the second person;
* ``steps`` - two or three concrete next steps (what we do, or what the customer can do);
* ``steps_without_order`` - the same steps for a message without an order number; where the
  order matters they ask for it, otherwise they equal ``steps``;
* ``keywords`` - lower-case words a reply that really addresses the intent contains (a
  reviewer uses them to check that a reply is on topic);
* ``promise`` - ``"refund"`` for billing intents where the customer wants money back.

Placeholders: strings may use ``{order}`` (rendered as "order #12345") and ``{product}``
(rendered as the product name, or "your product" when none is known) and nothing else.
``steps_without_order`` never uses ``{order}``. A placeholder never starts a sentence, so the
rendered text needs no capitalisation fix-ups, and ``understood`` also reads naturally when
``{order}`` is rendered as "your order".

Why billing steps never promise money: whether a customer may get money back depends on their
account (the workflow looks it up, e.g. "refund_eligible" or "suspended"), which the template
cannot know. So the steps of a ``promise="refund"`` intent only say what we check and when we
reply; the writer adds the actual refund promise only when the account allows it. For the same
reason, no template outside billing mentions refunds at all.

``TONE_OPENERS`` gives the first sentence by sentiment, ``CLOSINGS`` the last one, and
``LANGUAGE_NOTE`` (with a ``{language}`` placeholder, e.g. "Russian") is added when the
message is not in English.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IntentReply:
    inquiry_type: str  # technical, billing, shipping, product, account or general
    understood: str  # what the customer needs, restated in the second person
    steps: tuple[str, ...]  # 2-3 concrete next steps when an order number is known
    steps_without_order: tuple[str, ...]  # the same without an order number
    keywords: tuple[str, ...]  # lower-case words an on-topic reply contains
    promise: str | None = None  # "refund" when the customer wants money back


def _reply(
    inquiry_type: str,
    understood: str,
    steps: tuple[str, ...],
    keywords: tuple[str, ...],
    *,
    without_order: tuple[str, ...] | None = None,
    promise: str | None = None,
) -> IntentReply:
    """Build an ``IntentReply``; ``without_order`` defaults to ``steps`` for intents where the
    order number does not matter."""
    return IntentReply(
        inquiry_type=inquiry_type,
        understood=understood,
        steps=steps,
        steps_without_order=steps if without_order is None else without_order,
        keywords=keywords,
        promise=promise,
    )


INTENTS: dict[str, IntentReply] = {
    # -----------------------------------------------------------------------------------------
    # technical: something does not work, or how to use or set up a feature
    # -----------------------------------------------------------------------------------------
    "app_crash": _reply(
        "technical",
        "You'd like {product} to stop crashing so you can use it normally again.",
        (
            "Please update the app to the latest version and restart your device, as that fixes "
            "most of the crashes we see.",
            "If it still crashes, please uninstall the app, reinstall it and sign in again.",
            "If the crash continues, reply with your device model, its operating system version "
            "and what you tap just before the app closes, and we will open a bug report with our "
            "developers.",
        ),
        ("crash", "latest version", "reinstall", "device model"),
    ),
    "error_message": _reply(
        "technical",
        "You're seeing an error with {product} and would like to know what it means and how to "
        "fix it.",
        (
            "Please reply with the exact error message or code, and a photo or screenshot if you "
            "can, so we can look it up.",
            "In the meantime, please switch {product} off and on again and try once more, as many "
            "errors clear after a restart.",
            "We will check the error against our known issues and reply with the fix, or open a "
            "fault report if it turns out to be a hardware problem.",
        ),
        ("error", "code", "restart", "fault"),
    ),
    "connectivity": _reply(
        "technical",
        "You're having trouble getting {product} to connect, or to stay connected.",
        (
            "Please restart your router and {product}, and keep them close together while they "
            "reconnect.",
            "If it still drops out, please remove {product} from the device list in the app and "
            "pair it again from scratch.",
            "If that does not help, reply with your router or phone model and roughly when the "
            "connection drops, and our technical team will look into it.",
        ),
        ("connect", "router", "restart", "pair"),
    ),
    "sync_issue": _reply(
        "technical",
        "Your data isn't syncing correctly between your devices, and you'd like everything to "
        "match again.",
        (
            "Please sign out of the app on each device and sign back in, which forces a fresh "
            "sync.",
            "Please keep any duplicate or conflicting copies for now, so nothing is lost while we "
            "look into it.",
            "We will check the sync service for your account and reply with what we find, and if "
            "anything is still missing we will open a bug report with your device details.",
        ),
        ("sync", "sign out", "devices", "duplicate"),
    ),
    "slow_performance": _reply(
        "technical",
        "You've noticed that {product} has become much slower than it used to be, and you'd like "
        "it back to normal.",
        (
            "Please make sure {product} and its app are on the latest software version, as updates "
            "often include performance fixes.",
            "Please restart {product}, try again and note roughly how long the slow step takes.",
            "If it is still slow, reply with those timings and your model or device details, and "
            "our technical team will check whether it needs a fix or a repair.",
        ),
        ("slow", "latest software", "restart", "timings"),
    ),
    "setup_help": _reply(
        "technical",
        "You'd like some help setting up {product}.",
        (
            "Please make sure the app is up to date and {product} is switched on and close to your "
            "phone before you start the setup.",
            "If the setup stops at a particular step, please reply with that step and any message "
            "on the screen, and we will walk you through it.",
            "We will also email you our step-by-step setup guide for {product}.",
        ),
        ("setup", "step", "guide"),
    ),
    "how_to": _reply(
        "technical",
        "You'd like to know how to do something specific with {product}.",
        (
            "We will send you step-by-step instructions for the task you described.",
            "You can also find guides to the most common tasks in the Help section of the app and "
            "on our support site.",
            "If the option you need does not appear, please check that you are on the latest "
            "version of the app, as some features arrived in recent updates.",
        ),
        ("how to", "instructions", "guides", "latest version"),
    ),
    "firmware_update": _reply(
        "technical",
        "You need help with a firmware update for {product}, either installing it or fixing a "
        "problem it has caused.",
        (
            "Please open the app, go to the device settings for {product} and choose the firmware "
            "update option, keeping it powered and connected until the update finishes.",
            "If an update has left {product} stuck or restarting, please switch it off or unplug "
            "it for a minute, then try the update again.",
            "If it still does not start normally, reply with the firmware version shown in the "
            "app, and our technical team will help you recover it or arrange a repair.",
        ),
        ("firmware", "update", "version"),
    ),
    "integration_issue": _reply(
        "technical",
        "You need the integration between {product} and another service you use working again.",
        (
            "Please disconnect the integration in your settings and connect it again, which "
            "renews the permissions between the two services.",
            "If it still fails, reply with the name of the other service, your workspace or "
            "account name, and roughly when it stopped working.",
            "We will check our integration logs and the service status, and update you as soon as "
            "we know the cause.",
        ),
        ("integration", "connect", "service", "permissions"),
    ),
    "data_loss": _reply(
        "technical",
        "Some of your data seems to have disappeared from {product}, and you'd like to get it "
        "back.",
        (
            "Please don't delete, reset or reinstall anything for now, as that could overwrite "
            "data we may still be able to recover.",
            "Please check the Trash or Recently deleted folder, if there is one, and any other "
            "device you use, as missing items often turn up there first.",
            "We will check the backups and sync history for your account and reply with what can "
            "be restored.",
        ),
        ("data", "recover", "backup", "restore"),
    ),
    # -----------------------------------------------------------------------------------------
    # billing: payments, charges, refunds, invoices, plans
    # (promise="refund": the steps never promise money back themselves, see the docstring)
    # -----------------------------------------------------------------------------------------
    "double_charge": _reply(
        "billing",
        "You've been charged twice for the same purchase, and you'd like the extra payment "
        "sorted out.",
        (
            "We are checking the payments on {order} to see whether the second charge was "
            "completed or is only a pending authorisation.",
            "Please reply with the date and amount of both charges as they appear on your "
            "statement, so we can match them.",
            "Our billing team will review the payments and reply within one business day.",
        ),
        ("charged twice", "payment", "statement", "billing team"),
        without_order=(
            "Please reply with your order number or account email, plus the date and amount of "
            "both charges as they appear on your statement, so we can find the payments.",
            "We will then check whether the second charge was completed or is only a pending "
            "authorisation.",
            "Our billing team will review the payments and reply within one business day.",
        ),
        promise="refund",
    ),
    "refund_request": _reply(
        "billing",
        "You'd like a refund for {order}.",
        (
            "We have checked {order} and the payment made for it.",
            "If your request is about a faulty item, please reply with a short description and a "
            "photo, as that helps us handle it faster.",
            "Our billing team will review your request and reply within one business day.",
        ),
        ("refund", "payment", "billing team"),
        without_order=(
            "Please reply with your order number so we can find the payment.",
            "If your request is about a faulty item, please include a short description and a "
            "photo, as that helps us handle it faster.",
            "Our billing team will review your request and reply within one business day.",
        ),
        promise="refund",
    ),
    "cancel_subscription": _reply(
        "billing",
        "You'd like to cancel your subscription so that it doesn't renew.",
        (
            "We will cancel your subscription so it does not renew, and you keep access until the "
            "end of the period you have already paid for.",
            "You will receive a cancellation confirmation by email, so please keep it for your "
            "records.",
            "If the subscription renews in the next day or two, please reply with the email "
            "address on the account so we can cancel it before the renewal.",
        ),
        ("cancel", "subscription", "renew", "confirmation"),
    ),
    "update_payment_method": _reply(
        "billing",
        "You'd like to change the card or payment method we use for your payments.",
        (
            "You can update your card yourself under Billing > Payment methods in your account, "
            "and the new card is used from your next payment.",
            "For your security, please never send full card numbers by email; we will never ask "
            "you for them.",
            "If you'd prefer to pay another way, such as by bank transfer, please reply and we "
            "will check which other options are available for your account.",
        ),
        ("payment method", "card", "billing"),
    ),
    "invoice_request": _reply(
        "billing",
        "You need an invoice for {order}.",
        (
            "We will email you a copy of the invoice for {order} within one business day.",
            "If the invoice needs a company name, address or VAT number, please reply with those "
            "details and we will add them.",
            "For future purchases, you can download invoices yourself under Billing > Invoices in "
            "your account.",
        ),
        ("invoice", "company name", "vat number"),
        without_order=(
            "Please reply with your order number or the date of the purchase, so we can find the "
            "right invoice and email you a copy.",
            "If the invoice needs a company name, address or VAT number, please include those "
            "details and we will add them.",
            "For future purchases, you can download invoices yourself under Billing > Invoices in "
            "your account.",
        ),
    ),
    "unexpected_charge": _reply(
        "billing",
        "You've found a charge you didn't expect, and you'd like it explained and corrected if "
        "it's a mistake.",
        (
            "We are looking up the charge to see what it was for, for example a renewal, a plan "
            "change or a separate order.",
            "Please reply with the date and amount as shown on your statement and the last four "
            "digits of the card, so we can match it.",
            "Our billing team will review the charge and reply within one business day with what "
            "we find.",
        ),
        ("charge", "statement", "date and amount", "billing team"),
        promise="refund",
    ),
    "plan_change": _reply(
        "billing",
        "You'd like to switch to a different plan or billing period.",
        (
            "We will update your plan as requested and email you a confirmation showing the new "
            "price and the date it starts.",
            "You can also change plans yourself at any time under Billing > Plan in your account.",
            "If the change needs to be in place by a particular date, please reply with the date "
            "so we can make sure it is done in time.",
        ),
        ("plan", "new price", "confirmation"),
    ),
    "payment_failed": _reply(
        "billing",
        "Your payment didn't go through, and you'd like to know why and how to complete it.",
        (
            "Please check that the card details, expiry date and billing address in your account "
            "are up to date.",
            "If they are correct, please try again or use another card, and ask your bank whether "
            "it blocked the payment.",
            "We are checking our payment records for {order} to see whether an earlier attempt "
            "went through, so we can tell you its exact status.",
        ),
        ("payment", "card", "bank", "try again"),
        without_order=(
            "Please check that the card details, expiry date and billing address in your account "
            "are up to date.",
            "If they are correct, please try again or use another card, and ask your bank whether "
            "it blocked the payment.",
            "If the payment was for an order, please reply with the order number so we can check "
            "whether an earlier attempt went through.",
        ),
    ),
    "pricing_question": _reply(
        "billing",
        "You'd like to know the price of a plan or option, or whether a discount applies to you.",
        (
            "We will send you the current price of the plan or option you asked about, "
            "including any discount that applies to you.",
            "You can also see every plan and its current price on our pricing page.",
            "If you're thinking of changing your plan, we can also tell you exactly what you would "
            "pay at your next renewal.",
        ),
        ("price", "plan", "discount", "pricing page"),
    ),
    # -----------------------------------------------------------------------------------------
    # shipping: delivery of a physical order, returns logistics
    # -----------------------------------------------------------------------------------------
    "where_is_my_order": _reply(
        "shipping",
        "You'd like to know where {order} is and when it will arrive.",
        (
            "We will send you the tracking link for {order}, which shows the latest update from "
            "the carrier.",
            "Tracking can take 24 to 48 hours to update after dispatch, so a short pause in "
            "updates is normal.",
            "If the tracking has not moved for 5 business days, we will open an investigation with "
            "the carrier and keep you updated.",
        ),
        ("tracking", "carrier", "dispatch"),
        without_order=(
            "Please reply with your order number so we can find the parcel and send you its "
            "tracking link.",
            "Tracking can take 24 to 48 hours to update after dispatch, so a short pause in "
            "updates is normal.",
            "If the tracking has not moved for 5 business days, we will open an investigation with "
            "the carrier and keep you updated.",
        ),
    ),
    "late_delivery": _reply(
        "shipping",
        "You're still waiting for {order}, which is delayed past the delivery date we gave you.",
        (
            "We will ask the carrier for an update on {order} and pass on what they tell us within "
            "one business day.",
            "If the parcel has not moved for 5 business days, we will open an investigation with "
            "the carrier.",
            "If the carrier confirms that the parcel is lost, we will arrange a replacement for "
            "you.",
        ),
        ("delay", "carrier", "investigation", "replacement"),
        without_order=(
            "Please reply with your order number so we can chase the parcel with the carrier.",
            "If the parcel has not moved for 5 business days, we will open an investigation with "
            "the carrier.",
            "If the carrier confirms that the parcel is lost, we will arrange a replacement for "
            "you.",
        ),
    ),
    "change_address": _reply(
        "shipping",
        "You'd like to change the delivery address for {order}.",
        (
            "If {order} has not left our warehouse yet, we will update the address before it "
            "ships.",
            "If it has already shipped, we will ask the carrier to redirect the parcel to the new "
            "address.",
            "Please reply with the full new address, including the postcode, if it is not already "
            "in your message.",
        ),
        ("address", "postcode", "before it ships", "carrier"),
        without_order=(
            "Please reply with your order number and the full new address, including the postcode.",
            "If the order has not left our warehouse yet, we will update the address before it "
            "ships.",
            "If it has already shipped, we will ask the carrier to redirect the parcel to the new "
            "address.",
        ),
    ),
    "damaged_item": _reply(
        "shipping",
        "You received a damaged item in {order} and would like a replacement.",
        (
            "Please reply with a photo of the damaged item and, if you still have it, the "
            "packaging.",
            "Once we have seen the photos, we will arrange a replacement for {order}, with a "
            "prepaid return label if we need the damaged item back.",
            "We will also report the damage to the carrier and our packing team, so it does not "
            "happen again.",
        ),
        ("damaged", "photo", "replacement", "packaging"),
        without_order=(
            "Please reply with your order number and a photo of the damaged item and, if you "
            "still have it, the packaging.",
            "Once we have seen the photos, we will arrange a replacement, with a prepaid return "
            "label if we need the damaged item back.",
            "We will also report the damage to the carrier and our packing team, so it does not "
            "happen again.",
        ),
    ),
    "missing_item": _reply(
        "shipping",
        "You're missing something from {order}, either an item from the box or the whole parcel.",
        (
            "We are checking the packing record for {order} and the carrier's proof of delivery.",
            "If the parcel shows as delivered, please check with your neighbours and any safe "
            "place or parcel locker nearby, if you have not already.",
            "If the item is confirmed missing, we will send it to you again at no cost.",
        ),
        ("missing", "delivered", "carrier", "proof of delivery"),
        without_order=(
            "Please reply with your order number and which item is missing, so we can check the "
            "packing record and the carrier's proof of delivery.",
            "If the parcel shows as delivered, please check with your neighbours and any safe "
            "place or parcel locker nearby, if you have not already.",
            "If the item is confirmed missing, we will send it to you again at no cost.",
        ),
    ),
    "wrong_item": _reply(
        "shipping",
        "You received the wrong item in {order} and need the one you ordered.",
        (
            "We will ship the correct item for {order} by express delivery.",
            "We will email you a prepaid return label for the wrong item; until then, please keep "
            "the item in its packaging.",
            "If you can, please reply with a photo of the item you received and its label, so our "
            "warehouse can see what went wrong.",
        ),
        ("wrong item", "correct item", "return label"),
        without_order=(
            "Please reply with your order number and a photo of the item you received, so we can "
            "check it against your order.",
            "We will then ship the correct item by express delivery.",
            "We will also email you a prepaid return label for the wrong item; until then, please "
            "keep the item in its packaging.",
        ),
    ),
    "return_item": _reply(
        "shipping",
        "You'd like to send an item from {order} back to us.",
        (
            "We will email you a prepaid return label for {order}, which you can print or show at "
            "the drop-off point.",
            "Please pack the item securely, ideally in its original packaging, with all its "
            "accessories.",
            "Once the return reaches our warehouse, we will check it and email you a confirmation.",
        ),
        ("return", "label", "packaging", "warehouse"),
        without_order=(
            "Please reply with your order number and the item you want to return, so we can "
            "create your prepaid return label.",
            "Please pack the item securely, ideally in its original packaging, with all its "
            "accessories.",
            "Once the return reaches our warehouse, we will check it and email you a confirmation.",
        ),
    ),
    "delivery_options": _reply(
        "shipping",
        "You'd like to know which delivery options we offer, such as where we deliver, how fast "
        "and at what cost.",
        (
            "We will send you the delivery options, costs and times for your country or area.",
            "Our shipping page also lists every delivery option with its cost and usual delivery "
            "time.",
            "If you need an order by a particular date, please tell us the date and your "
            "postcode, and we will suggest the option that gets it to you in time.",
        ),
        ("delivery options", "cost", "shipping page", "postcode"),
    ),
    "delivery_complaint": _reply(
        "shipping",
        "You're unhappy with how {order} was delivered, and you want us to do something about it.",
        (
            "We will raise a formal complaint about the delivery of {order} with the carrier "
            "today.",
            "Please reply with the date of the delivery and anything else you remember, as it "
            "helps the carrier follow it up.",
            "We will let you know the outcome of the complaint within five business days.",
        ),
        ("complaint", "carrier", "delivery"),
        without_order=(
            "Please reply with your order number and the date of the delivery, so we can raise a "
            "formal complaint with the carrier.",
            "We will also share your feedback with our shipping team, who choose our carriers and "
            "packaging.",
            "We will let you know the outcome of the complaint within five business days.",
        ),
    ),
    # -----------------------------------------------------------------------------------------
    # product: questions before or aside from a problem
    # -----------------------------------------------------------------------------------------
    "feature_question": _reply(
        "product",
        "You'd like to know whether {product} has a particular feature or specification.",
        (
            "We will check the details for {product} and reply with a clear answer, including any "
            "model or plan the feature depends on.",
            "You can also find the full specifications on the product page for {product}.",
            "If the feature is not available, we will tell you whether anything similar is "
            "possible today.",
        ),
        ("feature", "specifications", "product page"),
    ),
    "compatibility": _reply(
        "product",
        "You'd like to know whether {product} works with a device or system you already have.",
        (
            "Please reply with the exact model and software version of the device you want to "
            "use, if it is not already in your message.",
            "We will check it against our compatibility list for {product} and reply with a clear "
            "yes or no.",
            "The product page for {product} also lists its system requirements and supported "
            "devices.",
        ),
        ("compatibility", "works with", "model", "supported"),
    ),
    "recommendation": _reply(
        "product",
        "You'd like a recommendation for the product that best fits your needs.",
        (
            "We will send you our recommendation for what you described, with the reasons it fits.",
            "If your budget or the space you have matters, please let us know, and we will narrow "
            "the choice down further.",
            "You can also compare our current range side by side on our website before you decide.",
        ),
        ("recommend", "budget", "compare"),
    ),
    "availability": _reply(
        "product",
        "You'd like to know when {product} will be available or back in stock.",
        (
            "We will check the latest stock and restock dates for {product} and reply with what "
            "we know.",
            "You can sign up for a back-in-stock alert on the product page, and we will email you "
            "as soon as it is available.",
            "If you need it by a particular date, please tell us, and we will suggest a similar "
            "product that is in stock now.",
        ),
        ("stock", "available", "alert"),
    ),
    "feature_request": _reply(
        "product",
        "You'd like {product} to gain a feature it does not have yet.",
        (
            "We will pass your suggestion for {product} to our product team, who read and track "
            "every feature request.",
            "We cannot promise if or when it will arrive, but the more customers ask for "
            "something, the higher it moves up the list.",
            "Please reply with how you would use the feature, as real examples help the team "
            "decide what to build.",
        ),
        ("suggestion", "product team", "feature"),
    ),
    "comparison": _reply(
        "product",
        "You'd like to know how two of our products differ so you can choose between them.",
        (
            "We will send you the main differences in features, specifications and price "
            "between the models you mentioned.",
            "If you have not already, please tell us what you will mainly use it for, and we will "
            "say which one we would pick in your place.",
            "You can also see the full specifications of both on their product pages.",
        ),
        ("differences", "specifications", "price"),
    ),
    # -----------------------------------------------------------------------------------------
    # account: the customer's account itself
    # -----------------------------------------------------------------------------------------
    "password_reset": _reply(
        "account",
        "You need to reset your password so you can sign in again.",
        (
            "Please use the Forgot password link on the sign-in page, and we will email you a "
            "reset link that is valid for 24 hours.",
            "If the email does not arrive within a few minutes, please check your spam folder and "
            "make sure you use the address your account is registered with.",
            "If you no longer have access to that email address, please reply and we will verify "
            "your identity in another way.",
        ),
        ("password", "reset link", "spam"),
    ),
    "locked_out": _reply(
        "account",
        "You're locked out of your account and need to get back in.",
        (
            "If your account was locked after too many sign-in attempts, we will unlock it once we "
            "have confirmed that it is yours.",
            "Please reply from the email address on the account, or tell us a recent order "
            "number, so we can verify your identity.",
            "If you think someone else has accessed your account, we will secure it, reset your "
            "password and review the recent activity with you.",
        ),
        ("unlock", "verify", "account", "secure"),
    ),
    "two_factor": _reply(
        "account",
        "You can't get past the two-factor check and need to sign in again.",
        (
            "Please try one of the backup codes you saved when you set up two-factor "
            "authentication.",
            "If you have no backup codes, please reply from the email address on the account, and "
            "we will verify your identity and reset two-factor authentication.",
            "Once you are back in, please set up your authenticator app again and save the new "
            "backup codes somewhere safe.",
        ),
        ("two-factor", "backup codes", "authenticator", "verify"),
    ),
    "change_email": _reply(
        "account",
        "You'd like to change the email address on your account.",
        (
            "You can change it under Settings > Account > Email, and we will send a verification "
            "link to the new address to confirm the change.",
            "If you can't sign in or no longer use the old address, please reply with the new "
            "address and a recent order number, so we can verify the account and change it for "
            "you.",
            "Once the change is confirmed, order updates and receipts go to the new address.",
        ),
        ("email address", "verification link", "settings"),
    ),
    "change_username": _reply(
        "account",
        "You'd like to change your username.",
        (
            "You can change it under Settings > Account > Username, and your data and history "
            "stay exactly as they are.",
            "If the field is greyed out or the name you want is taken, please reply with the new "
            "username and we will change it for you.",
            "Please sign in with the new username on all your devices once it has changed.",
        ),
        ("username", "settings", "sign in"),
    ),
    "update_profile": _reply(
        "account",
        "You'd like to update the details on your profile.",
        (
            "You can edit your name, photo, country and language under Settings > Profile in the "
            "app or on the website.",
            "Changes are saved straight away and appear on your other devices the next time they "
            "sync.",
            "If a field cannot be edited, please reply with the change you need and we will update "
            "it for you.",
        ),
        ("profile", "settings", "edit"),
    ),
    "delete_account": _reply(
        "account",
        "You'd like your account and its data deleted.",
        (
            "For your security, we will confirm the request with you by email before anything is "
            "deleted.",
            "Once you confirm, we will delete your account and personal data within 30 days and "
            "send you a confirmation.",
            "If you want a copy of your data first, please download it under Settings > Privacy "
            "before the deletion, as it cannot be recovered afterwards.",
        ),
        ("delete", "personal data", "30 days", "confirm"),
    ),
    "export_data": _reply(
        "account",
        "You'd like a copy of the personal data we hold about you.",
        (
            "You can request it under Settings > Privacy > Download my data, and we will email you "
            "a download link when the file is ready.",
            "We provide the copy within one month at the latest, as data-protection law requires, "
            "and usually much sooner.",
            "For your security, we will only send the link to the email address registered on your "
            "account.",
        ),
        ("copy", "personal data", "download link"),
    ),
    "privacy_settings": _reply(
        "account",
        "You'd like to change who can see your information or how your data is used.",
        (
            "You can control your profile visibility, activity sharing and personalised ads under "
            "Settings > Privacy.",
            "Changes take effect straight away, so please reply if a setting does not stick or was "
            "changed without your consent.",
            "If you need any information hidden urgently, please reply and we will update the "
            "setting for you.",
        ),
        ("privacy", "settings", "visibility"),
    ),
    # -----------------------------------------------------------------------------------------
    # general: feedback, company questions and anything else
    # -----------------------------------------------------------------------------------------
    "praise": _reply(
        "general",
        "You took the time to tell us about a good experience, and that means a lot to us.",
        (
            "We will share your message with the team and anyone you mentioned by name, as "
            "feedback like this makes their day.",
            "If you have a moment, please leave a short review on our website, as it helps other "
            "customers choose.",
        ),
        ("experience", "team", "review"),
    ),
    "general_complaint": _reply(
        "general",
        "You're unhappy with your experience of our company, and you want us to listen and "
        "improve.",
        (
            "We will pass your feedback to the manager responsible for customer experience, who "
            "reads every complaint.",
            "If a specific order, case or reply went wrong, please tell us which one, and we will "
            "look into it personally.",
            "We will reply within two business days with what we are doing about it.",
        ),
        ("feedback", "complaint", "manager"),
    ),
    "company_info": _reply(
        "general",
        "You'd like some information about our company.",
        (
            "We will send you the details you asked about, or pass your question to the team "
            "that can answer it.",
            "You can also find our background, sustainability reports and press releases on the "
            "About us page of our website.",
            "If you are asking for a publication, please say so, and we will put you in touch with "
            "our press team.",
        ),
        ("company", "about us", "press team"),
    ),
    "opening_hours": _reply(
        "general",
        "You'd like to know when our customer support team is available.",
        (
            "Our current phone and chat hours, including changes over public holidays, are listed "
            "on the Contact us page of our website.",
            "You can email us at any time, and we reply within one business day.",
            "If you tell us which day you'd like to call, we will confirm the hours for that day.",
        ),
        ("hours", "contact us", "phone"),
    ),
    "newsletter": _reply(
        "general",
        "You'd like to sign up for, or unsubscribe from, our newsletter or marketing messages.",
        (
            "Please go to Settings > Notifications in your account to sign up or unsubscribe, or "
            "use the unsubscribe link at the bottom of any newsletter.",
            "Order updates and receipts are sent separately, so you will still receive them after "
            "unsubscribing from marketing.",
            "If messages keep arriving after you unsubscribe, please reply with the email address "
            "they come to, and we will remove it from our lists within two business days.",
        ),
        ("newsletter", "unsubscribe", "marketing", "notifications"),
    ),
    "partnership": _reply(
        "general",
        "You'd like to explore a partnership or business collaboration with us.",
        (
            "We will pass your proposal to our partnerships team, who will reply within five "
            "business days.",
            "To help them, please reply with your company name, a short description of what you "
            "have in mind and the best way to reach you, if they are not already in your message.",
        ),
        ("partnership", "proposal", "company name"),
    ),
    "other": _reply(
        "general",
        "You have a question for us that doesn't fit one of our usual support topics.",
        (
            "We will read your message carefully and pass it to the team best placed to answer it.",
            "If you are applying for a job, please use the Careers page on our website, where all "
            "our current vacancies are listed.",
            "If you received an email from us that you did not expect, please forward it to us, "
            "and we will check why it was sent and remove your address if you wish.",
        ),
        ("message", "team", "careers"),
    ),
    "human_request": _reply(
        "general",
        "You'd like to speak to a member of our team rather than an automated system.",
        (
            "We will pass your message to a member of our support team, who will reply to you "
            "personally within one business day.",
            "They will already have the details of {order}, so you won't need to explain it again.",
            "If you'd prefer a phone call, please reply with your phone number and a good time to "
            "call.",
        ),
        ("support team", "personally", "call"),
        without_order=(
            "We will pass your message to a member of our support team, who will reply to you "
            "personally within one business day.",
            "So they can help straight away, please reply with a short summary of what you need "
            "and any order number it concerns.",
            "If you'd prefer a phone call, please reply with your phone number and a good time to "
            "call.",
        ),
    ),
}


# ---------------------------------------------------------------------------------------------
# Openers, closings and the note for messages that are not in English
# ---------------------------------------------------------------------------------------------

TONE_OPENERS: dict[str, tuple[str, ...]] = {
    # Empathetic; never thanks the customer for "feedback" they did not mean as feedback.
    "negative": (
        "I'm sorry about this, and I understand how frustrating it is.",
        "I'm really sorry for the trouble this has caused you.",
        "I completely understand your frustration, and I apologise for the inconvenience.",
        "I'm sorry this hasn't gone the way it should, and I want to help sort it out.",
    ),
    "neutral": (
        "Thanks for getting in touch.",
        "Thank you for contacting us.",
        "Thanks for your message.",
        "Thank you for reaching out to us.",
    ),
    # Warm; never apologises, because nothing went wrong.
    "positive": (
        "Thank you for your kind words!",
        "It's lovely to hear from you, thank you!",
        "Thanks so much for your message; it really made our day!",
        "We're delighted to hear from you, and thank you for the kind message!",
    ),
}

CLOSINGS: tuple[str, ...] = (
    "If anything else comes up, just reply to this email.",
    "If you have any other questions, just reply to this email and we'll be happy to help.",
    "Please let us know if there is anything else we can do for you.",
    "We're here to help, so don't hesitate to get in touch if you need anything else.",
)

LANGUAGE_NOTE = (
    "We noticed that your message is written in {language}, so a colleague who speaks "
    "{language} will follow up with you shortly."
)
