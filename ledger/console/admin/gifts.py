"""The gift catalog: a new gift, and taking one off the counter or offering it again (SPEC §9,
§13 "Admin"). Stock is the branch's business (the supervisor's pages)."""

from __future__ import annotations

from flask import render_template, request, url_for
from werkzeug.wrappers import Response

from ledger.console.access import current_principal, page
from ledger.console.admin.blueprint import Change, blp, reading, submit
from ledger.console.admin.forms import GiftActivationForm, GiftForm
from ledger.console.admin.refusals import Explanation
from ledger.console.admin.text import _
from ledger.service.counter import catalog
from ledger.service.counter.catalog import GIFT_NAME_LENGTH_MAX, POINTS_COST_MAX
from ledger.service.errors import ServiceError


@blp.route("/gifts", methods=["GET", "POST"])
@page("admin")
def gifts() -> Response | tuple[str, int]:
    form = GiftForm()
    if request.method == "GET":
        return _gifts_page(form, None, 200)

    def add(made: Change) -> str:
        added = catalog.add_gift(made.session, current_principal(), form.sku.data or "",
                                 form.name.data or "", form.points_cost.data or 0, made.now)
        return _("Gift %(sku)s (%(name)s) added: tellers can offer it now.", sku=added["sku"],
                 name=added["name"])

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(
            fields={"sku": _("A SKU is 1 to 32 letters, digits, dots, underscores or hyphens, "
                             "starting with a letter or a digit."),
                    "name": _("A name has 1 to %(length)s characters.",
                              length=GIFT_NAME_LENGTH_MAX),
                    "points_cost": _("A whole number of points from 1 to %(most)s.",
                                     most=POINTS_COST_MAX)},
            codes={"gift_exists": ("sku", _("Gift %(sku)s is already in the catalog.",
                                            sku=form.sku.data))})

    return submit(form, add, lambda problem, status: _gifts_page(form, problem, status),
                  url_for(".gifts"), explanation)


@blp.route("/gifts/<sku>/deactivate", methods=["POST"], defaults={"active": False})
@blp.route("/gifts/<sku>/activate", methods=["POST"], defaults={"active": True})
@page("admin")
def set_gift_active(sku: str, active: bool) -> Response | tuple[str, int]:
    def switch(made: Change) -> str:
        catalog.set_gift_active(made.session, current_principal(), sku, active, made.now)
        return (_("Gift %(sku)s is offered at the counter again.", sku=sku) if active
                else _("Gift %(sku)s is taken off the counter; its past redemptions still name "
                       "it.", sku=sku))

    def explanation(error: ServiceError) -> Explanation:
        del error
        return Explanation(codes={"unknown_sku": (None, _("There is no gift %(sku)s.",
                                                          sku=sku))})

    return submit(GiftActivationForm(), switch,
                  lambda problem, status: _gifts_page(GiftForm(formdata=None), problem, status),
                  url_for(".gifts"), explanation)


def _gifts_page(form: GiftForm, problem: str | None, status: int) -> tuple[str, int]:
    with reading() as session:
        listed = catalog.gifts(session)
    return render_template("admin/gifts.html", gifts=listed, form=form,
                           switch=GiftActivationForm(formdata=None), problem=problem), status
