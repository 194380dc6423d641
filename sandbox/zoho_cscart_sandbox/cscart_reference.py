"""CS-Cart vendors (Multi-Vendor companies), statuses, payments, shippings and taxes."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response

from zoho_cscart_sandbox import seed as seed_data
from zoho_cscart_sandbox.cscart_state import ApiCaller, CscartResource
from zoho_cscart_sandbox.cscart_wire import error, php_json
from zoho_cscart_sandbox.lazy import Record


class ReferenceApi(CscartResource):
    # -- vendors -------------------------------------------------------------------------------
    def vendors_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        if object_id is not None:
            if caller.is_vendor and int(object_id) != caller.user.company_id:
                return error(403)
            vendor = self.state.vendors.get(int(object_id))
            return php_json(vendor) if vendor else error(404)
        rows = sorted(self.state.vendors.values(), key=lambda v: v["company"].casefold())
        if caller.is_vendor:
            rows = [v for v in rows if v["company_id"] == str(caller.user.company_id)]
        if params.get("status"):
            rows = [v for v in rows if v["status"] == params["status"]]
        ids = [v["company_id"] for v in rows]
        chosen, meta = self.paginate(params, ids, len(ids), clamp=True, string_total=True)
        return php_json({"vendors": [self.state.vendors[int(i)] for i in chosen], "params": meta})

    def vendors_post(self, caller: ApiCaller, _id: str | None, body: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403)
        for field in ("company", "email"):
            if not str(body.get(field) or "").strip():
                return error(400, f"The {field} field is required")
        company_id = max(self.state.vendors) + 1
        vendor = seed_data.vendor_record(
            {
                "company_id": company_id,
                "company": body["company"],
                "email": body["email"],
                "city": body.get("city", ""),
                "state": body.get("state", ""),
                "country": body.get("country", ""),
                "zipcode": body.get("zipcode", ""),
                "phone": body.get("phone", ""),
            }
        )
        vendor["status"] = str(body.get("status", "A"))
        self.state.vendors[company_id] = vendor
        self.state.touched()
        return php_json({"company_id": company_id}, 200)  # 200, not 201 (pitfall 15)

    def vendors_put(self, caller: ApiCaller, object_id: str | None, body: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor and int(object_id or 0) != caller.user.company_id:
            return error(403)
        vendor = self.state.vendors.get(int(object_id or 0))
        if vendor is None:
            return error(404)
        for key in (
            "company",
            "email",
            "status",
            "address",
            "city",
            "state",
            "country",
            "zipcode",
            "phone",
            "url",
        ):
            if key in body:
                vendor[key] = str(body[key])
        self.state.touched()
        return php_json({"store_id": object_id})  # update answers store_id (inherited from Stores)

    def vendors_delete(self, caller: ApiCaller, object_id: str | None, _b: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403)
        company_id = int(object_id or 0)
        if company_id not in self.state.vendors:
            return error(404)
        if any(o["company_id"] == str(company_id) for o in self.state.tables["orders"].iter_records()):
            return error(400, "The vendor has orders and cannot be deleted")
        del self.state.vendors[company_id]
        self.state.touched()
        return Response(status_code=204)

    # -- statuses, payments, shippings, taxes (array-sliced lists: empty past the end) ------------
    def _static_list(
        self, key: str, rows: list[Record], params: dict[str, Any], object_id: str | None, id_field: str
    ) -> Response:
        if object_id is not None:
            row = next((r for r in rows if r[id_field] == object_id), None)
            return php_json(row) if row else error(404)
        ids = [r[id_field] for r in rows]
        chosen, meta = self.paginate(params, ids, len(ids), clamp=False, string_total=False)
        by_id = {r[id_field]: r for r in rows}
        return php_json({key: [by_id[i] for i in chosen], "params": meta})

    def statuses_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        if caller.is_vendor:
            return error(403)  # needs manage_order_statuses even for GET
        status_type = str(params.get("type") or "O")
        rows = [
            {
                "status_id": str(sid),
                "status": letter,
                "type": "O",
                "is_default": "Y",
                "position": str(sid * 10),
                "description": name,
                "email_subj": "",
                "email_header": "",
                "lang_code": "en",
                "params": {
                    "inventory": inventory,
                    "payment_received": paid,
                    "notify": "Y",
                    "notify_department": "Y",
                    "notify_vendor": "Y",
                },
            }
            for sid, letter, name, inventory, paid in seed_data.CSCART_STATUSES
        ]
        rows = [r for r in rows if r["type"] == status_type]
        return self._static_list("statuses", rows, params, object_id, "status_id")

    def payments_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        rows = [
            dict(
                p,
                processor_id="0",
                processor_params="",
                a_surcharge="0.000",
                p_surcharge="0.000",
                tax_ids="",
                usergroup_ids="0",
                description="",
                instructions="",
                lang_code="en",
            )
            for p in seed_data.CSCART_PAYMENTS
            if not caller.is_vendor or p["company_id"] in ("0", str(caller.user.company_id))
        ]
        return self._static_list("payments", rows, params, object_id, "payment_id")

    def shippings_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        rows = [
            dict(
                s,
                destination="I",
                min_weight="0.00",
                max_weight="0.00",
                usergroup_ids="0",
                service_id="0",
                service_params=[],
                tax_ids="",
                free_shipping="N",
                is_address_required="Y",
            )
            for s in seed_data.CSCART_SHIPPINGS
        ]
        return self._static_list("shippings", rows, params, object_id, "shipping_id")

    def taxes_get(self, caller: ApiCaller, object_id: str | None, params: dict[str, Any], _r: Request) -> Response:
        return self._static_list("taxes", [dict(t) for t in seed_data.CSCART_TAXES], params, object_id, "tax_id")
