"""CRM writes: insert (POST), update (PUT), upsert, delete - per-record codes, 201/207/400."""

from __future__ import annotations

import json
import time

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from zoho_cscart_sandbox.clock import crm_datetime, utc_now
from zoho_cscart_sandbox.credentials import zoho_creds
from zoho_cscart_sandbox.crm_base import (
    EMAIL_FIELDS,
    EMAIL_RE,
    LOOKUPS,
    MANDATORY,
    MAX_WRITE_RECORDS,
    READ_ONLY,
    UNIQUE_FIELDS,
    UPSERT_DEFAULT,
    CrmBase,
    display_name,
    values_equal,
)
from zoho_cscart_sandbox.crm_fields import MAX_LENGTHS
from zoho_cscart_sandbox.lazy import Record
from zoho_cscart_sandbox.zoho_state import crm_error, crm_scope_ok


class CrmWrites(CrmBase):
    # -- writes --------------------------------------------------------------------------------
    async def read_write_body(self, request: Request) -> Record | Response:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            return crm_error(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            return crm_error(400, "INVALID_DATA", "body", {"expected_data_type": "jsonobject"})
        if not body["data"]:
            return crm_error(400, "INVALID_DATA", "invalid data", {"api_name": "data"})
        if len(body["data"]) > MAX_WRITE_RECORDS:
            return crm_error(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_WRITE_RECORDS})
        return body

    def validate(self, tenant: str, module: str, index: int, data: Record, *, creating: bool) -> Record | None:
        """A per-record error entry, or None when the record may be written."""
        table = self.state.crm[tenant][module]
        if not isinstance(data, dict):
            return _row_error("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject", "index": index})
        if creating:
            for field in MANDATORY[module]:
                value = data.get(field)
                if value in (None, "", []):
                    return _row_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        {"api_name": field, "json_path": f"$.data[{index}].{field}"},
                    )
        for field in EMAIL_FIELDS:
            value = data.get(field)
            if value not in (None, "") and (not isinstance(value, str) or not EMAIL_RE.match(value)):
                return _row_error(
                    "INVALID_DATA",
                    "invalid data",
                    {
                        "api_name": field,
                        "json_path": f"$.data[{index}].{field}",
                        "expected_data_type": "email",
                    },
                )
        for field, limit in MAX_LENGTHS.get(module, {}).items():
            value = data.get(field)
            if isinstance(value, str) and len(value) > limit:
                return _row_error(
                    "INVALID_DATA",
                    "invalid data",
                    {"api_name": field, "json_path": f"$.data[{index}].{field}", "maximum_length": limit},
                )
        for field, target in LOOKUPS.get(module, {}).items():
            value = data.get(field)
            if value is None:
                continue
            lookup_id = value.get("id") if isinstance(value, dict) else None
            if not isinstance(lookup_id, str) or not self.state.crm[tenant][target].exists(lookup_id):
                return _row_error(
                    "INVALID_DATA",
                    "the id given seems to be invalid",
                    {"api_name": field, "json_path": f"$.data[{index}].{field}"},
                )
        if module == "Sales_Orders" and "Ordered_Items" in data:
            items = data["Ordered_Items"]
            products = self.state.crm[tenant]["Products"]
            if not isinstance(items, list):
                return _row_error("INVALID_DATA", "invalid data", {"api_name": "Ordered_Items"})
            for n, item in enumerate(items):
                if isinstance(item, dict) and item.get("id") and ("_delete" in item or "Product_Name" not in item):
                    continue  # a current line deleted, or updated without changing its product
                product = item.get("Product_Name") if isinstance(item, dict) else None
                pid = product.get("id") if isinstance(product, dict) else None
                if not isinstance(pid, str) or not products.exists(pid):
                    return _row_error(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        {
                            "api_name": "Product_Name",
                            "json_path": f"$.data[{index}].Ordered_Items[{n}].Product_Name",
                        },
                    )
        for field in UNIQUE_FIELDS.get(module, ()):
            value = data.get(field)
            if value in (None, ""):
                continue
            duplicates = table.scan_ids(field, lambda v, wanted=str(value): values_equal(v, wanted))
            for other_id in duplicates:
                other = table.get(other_id)
                if other is not None and other["id"] != data.get("id"):
                    return _row_error(
                        "DUPLICATE_DATA",
                        "duplicate data",
                        {
                            "api_name": field,
                            "json_path": f"$.data[{index}].{field}",
                            "duplicate_record": {
                                "id": other["id"],
                                "module": {"api_name": module, "id": table.name},
                                "Owner": {"name": other["Owner"]["name"], "id": other["Owner"]["id"]},
                            },
                        },
                    )
        return None

    def apply(self, tenant: str, module: str, data: Record, existing: Record | None) -> Record:
        """Create or update a record from the request data; returns the stored record."""
        table = self.state.crm[tenant][module]
        now = utc_now()
        offset = self.offset(tenant)
        if existing is None:
            record_id = table.new_id()
            owner = self.state_owner(tenant)
            record: Record = {key: None for key in self.record_fields(table)}
            record.update(
                {
                    "id": record_id,
                    "Owner": owner,
                    "Created_By": owner,
                    "Modified_By": owner,
                    "Created_Time": crm_datetime(now, offset),
                    "Tag": [],
                    "$approved": True,
                    "$editable": True,
                    "$state": "save",
                    "$approval_state": "approved",
                    "$currency_symbol": "$",
                }
            )
            if module == "Sales_Orders":
                # CRM numbers sales orders itself (SO_Number, an auto-number field): the seed holds 1..N.
                record["SO_Number"] = f"{table.base_count + table.ever_created() + 1:06d}"
        else:
            record = existing
        for key, value in data.items():
            if key in READ_ONLY or key.startswith("$") or (module == "Sales_Orders" and key == "SO_Number"):
                continue
            if key in LOOKUPS.get(module, {}) and isinstance(value, dict):
                target = self.state.crm[tenant][LOOKUPS[module][key]].get(value["id"]) or {}
                value = {"name": display_name(LOOKUPS[module][key], target), "id": value["id"]}
            if module == "Sales_Orders" and key == "Ordered_Items":
                value = self.line_items(tenant, record["id"], value, record.get("Ordered_Items") or [])
            record[key] = value
        if module == "Sales_Orders":
            self.totals(record)
        if "Last_Name" in record and record.get("Last_Name") is not None:
            record["Full_Name"] = " ".join(p for p in (record.get("First_Name"), record.get("Last_Name")) if p)
        record["Modified_Time"] = crm_datetime(now, offset)
        record["Modified_By"] = self.state_owner(tenant)
        table.put(record["id"], record, now)
        self.state.written_at[(tenant, module, record["id"])] = time.monotonic()
        return record

    def line_items(self, tenant: str, order_id: str, items: list[Record], current: list[Record]) -> list[Record]:
        """Ordered_Items as CRM reads them back: line ids, product lookups with names, totals.

        (U, modelled on CRM's subform rules) A line is kept by its id: an element with the ``id`` of a current line
        updates that line, one with ``_delete`` (and an id) removes it, one without id is a *new* line, and the
        current lines the request does not name stay. A client that wants to replace the lines names them."""
        changes = {str(item["id"]): item for item in items if isinstance(item, dict) and item.get("id")}
        lines: list[Record] = []
        for line in current:
            change = changes.get(str(line.get("id")))
            if change is None:
                lines.append(line)
            elif "_delete" not in change:
                lines.append(self.line(tenant, {**line, **change}))
        used = {str(line.get("id")) for line in current}
        for n, item in enumerate(items):
            if item.get("id"):
                continue  # a current line (above), or an unknown line id, which CRM ignores (U)
            line_id = next(
                f"{order_id[:-4]}9{k:03d}" for k in range(n, n + 1000) if f"{order_id[:-4]}9{k:03d}" not in used
            )
            used.add(line_id)
            lines.append(self.line(tenant, {**item, "id": line_id}))
        return lines

    def line(self, tenant: str, item: Record) -> Record:
        product = self.state.crm[tenant]["Products"].get(item["Product_Name"]["id"]) or {}
        quantity = float(item.get("Quantity", 1))
        price = float(item.get("List_Price", product.get("Unit_Price") or 0))
        discount = float(item.get("Discount", 0))
        total = round(quantity * price, 2)
        return {
            "id": item["id"],
            "Product_Name": {"name": product.get("Product_Name"), "id": item["Product_Name"]["id"]},
            "Quantity": quantity,
            "List_Price": price,
            "Discount": discount,
            "Total": total,
            "Net_Total": round(total - discount, 2),
            "Description": item.get("Description"),
            "Line_Tax": item.get("Line_Tax", []),
        }

    @staticmethod
    def totals(record: Record) -> None:
        """What CRM computes on every write: Sub_Total (the lines' net totals) and Grand_Total (Sub_Total - Discount
        + Tax + Adjustment)."""
        lines = [line for line in record.get("Ordered_Items") or [] if isinstance(line, dict)]
        sub_total = round(sum(float(line.get("Net_Total") or 0) for line in lines), 2)
        record["Sub_Total"] = sub_total
        record["Grand_Total"] = round(
            sub_total
            - float(record.get("Discount") or 0)
            + float(record.get("Tax") or 0)
            + float(record.get("Adjustment") or 0),
            2,
        )

    def state_owner(self, tenant: str) -> dict[str, str]:
        creds = zoho_creds(tenant)
        from zoho_cscart_sandbox.seed import TENANT_DOMAINS

        return {
            "name": "Sandbox Admin",
            "id": f"{creds.crm_id_prefix}000000000001",
            "email": f"crm-admin@{TENANT_DOMAINS[tenant]}",
        }

    @staticmethod
    def success_details(record: Record) -> Record:
        return {
            "id": record["id"],
            "Created_Time": record["Created_Time"],
            "Modified_Time": record["Modified_Time"],
            "Created_By": {"name": record["Created_By"]["name"], "id": record["Created_By"]["id"]},
            "Modified_By": {"name": record["Modified_By"]["name"], "id": record["Modified_By"]["id"]},
        }

    async def insert(self, request: Request, module: str) -> Response:
        grant = self.auth(request, module, "CREATE")
        if isinstance(grant, Response):
            return grant
        if self.table(grant.tenant, module) is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        body = await self.read_write_body(request)
        if isinstance(body, Response):
            return body
        results = []
        for index, data in enumerate(body["data"]):
            error = self.validate(grant.tenant, module, index, data, creating=True)
            if error is not None:
                results.append(error)
                continue
            record = self.apply(grant.tenant, module, data, None)
            results.append(_row_ok("record added", self.success_details(record)))
        return _write_response(results, all_ok_status=201)

    async def update(self, request: Request, module: str, path_id: str | None = None) -> Response:
        grant = self.auth(request, module, "UPDATE")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        body = await self.read_write_body(request)
        if isinstance(body, Response):
            return body
        results = []
        for index, data in enumerate(body["data"]):
            record_id = path_id or (data.get("id") if isinstance(data, dict) else None)
            if not record_id:
                results.append(
                    _row_error(
                        "MANDATORY_NOT_FOUND",
                        "required field not found",
                        {"api_name": "id", "json_path": f"$.data[{index}].id"},
                    )
                )
                continue
            existing = table.get(str(record_id))
            if existing is None:
                results.append(
                    _row_error(
                        "INVALID_DATA",
                        "the id given seems to be invalid",
                        {"api_name": "id", "json_path": f"$.data[{index}].id"},
                    )
                )
                continue
            error = self.validate(grant.tenant, module, index, {**data, "id": str(record_id)}, creating=False)
            if error is not None:
                results.append(error)
                continue
            record = self.apply(grant.tenant, module, data, existing)
            results.append(_row_ok("record updated", self.success_details(record)))
        return _write_response(results, all_ok_status=200)

    async def upsert(self, request: Request, module: str) -> Response:
        grant = self.state.crm_auth(
            request,
            lambda scopes: crm_scope_ok(scopes, module, "CREATE") and crm_scope_ok(scopes, module, "UPDATE"),
        )
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        body = await self.read_write_body(request)
        if isinstance(body, Response):
            return body
        check_fields = body.get("duplicate_check_fields") or list(UPSERT_DEFAULT[module])
        known = self.known_fields(table)
        # Only the module's system duplicate-check fields and fields marked "do not allow duplicates" may be
        # listed (zoho_api.md 2.6): a field that may repeat cannot identify the record to update.
        allowed = set(UPSERT_DEFAULT[module]) | set(UNIQUE_FIELDS.get(module, ()))
        for field in check_fields:
            if field not in known or field not in allowed:
                return crm_error(
                    400,
                    "INVALID_DATA",
                    "invalid data",
                    {"api_name": field, "param_name": "duplicate_check_fields"},
                )
        results = []
        all_inserts = True
        for index, data in enumerate(body["data"]):
            if not isinstance(data, dict):
                results.append(_row_error("INVALID_DATA", "invalid data", {"expected_data_type": "jsonobject"}))
                continue
            existing, matched_field = None, None
            if data.get("id"):
                existing = table.get(str(data["id"]))
            else:
                for field in check_fields:
                    value = data.get(field)
                    if value in (None, ""):
                        continue
                    wanted = value["id"] if isinstance(value, dict) else str(value)
                    # (U) several records may share the value (e.g. an e-mail); Zoho's choice is
                    # undocumented - the sandbox updates the oldest (lowest id), the likeliest.
                    matches = table.scan_ids(field, lambda v, w=wanted: values_equal(v, w))
                    existing = table.get(matches[0]) if matches else None
                    if existing is not None:
                        matched_field = field
                        break
            error = self.validate(
                grant.tenant,
                module,
                index,
                {**data, "id": existing["id"] if existing else None},
                creating=existing is None,
            )
            if error is not None:
                results.append(error)
                continue
            record = self.apply(grant.tenant, module, data, existing)
            all_inserts = all_inserts and existing is None
            row = _row_ok("record updated" if existing else "record added", self.success_details(record))
            row["action"] = "update" if existing else "insert"
            if matched_field is not None:  # a non-nullable string in the OAS: absent on an insert (or a match by id)
                row["duplicate_field"] = matched_field
            results.append(row)
        # (U) 201 when every row was inserted, 200 otherwise; 207 for mixed success/failure.
        return _write_response(results, all_ok_status=201 if all_inserts else 200)

    async def delete(self, request: Request, module: str, path_id: str | None = None) -> Response:
        grant = self.auth(request, module, "DELETE")
        if isinstance(grant, Response):
            return grant
        table = self.table(grant.tenant, module)
        if table is None:
            return crm_error(400, "INVALID_MODULE", "the module name given seems to be invalid")
        ids = [path_id] if path_id else [i for i in request.query_params.get("ids", "").split(",") if i]
        if not ids:
            return crm_error(
                400,
                "REQUIRED_PARAM_MISSING",
                "One of the expected parameter is missing",
                {"param_name": "ids"},
            )
        if len(ids) > MAX_WRITE_RECORDS:
            return crm_error(400, "LIMIT_EXCEEDED", "Record count exceeded", {"limit": MAX_WRITE_RECORDS})
        results = []
        for record_id in ids:
            record = table.get(record_id)
            if record is None:
                results.append(_row_error("INVALID_DATA", "the id given seems to be invalid", {"id": record_id}))
                continue
            self.state.deleted_names[(grant.tenant, module, record_id)] = display_name(module, record)
            table.delete(record_id, utc_now())
            results.append(_row_ok("record deleted", {"id": record_id}))
        return _write_response(results, all_ok_status=200)


def _row_ok(message: str, details: Record) -> Record:
    return {"code": "SUCCESS", "details": details, "message": message, "status": "success"}


def _row_error(code: str, message: str, details: Record) -> Record:
    return {"code": code, "details": details, "message": message, "status": "error"}


def _write_response(results: list[Record], *, all_ok_status: int) -> JSONResponse:
    ok = sum(1 for r in results if r["status"] == "success")
    if ok == len(results):
        status = all_ok_status
    elif ok == 0:
        status = 400
    else:
        status = 207
    return JSONResponse({"data": results}, status_code=status)
