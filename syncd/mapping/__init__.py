"""Mapping files (``mappings/<entity>.toml``) -> :class:`EntityMapping`.

A mapping says, for one entity, which CRM property and which AFAS field hold each
canonical field, how values are normalised and translated, which way each field flows,
and how unlinked records are matched. The shipped ``mappings/customer.toml`` documents
every key; in short::

    entity = "customer"
    [crm]    id, modified, correlation, object, role_property, role_value | role_options
    [afas]   id, modified, correlation, get_connector, update_connector, update_key,
             correlation_update, inactive (one field or several), inactive_from (end
             dates), deactivate_update, organisation
    [match]  keys = [["kvk"], ["vat"], ["name", "postcode"]]
    [[fields]]
    name = "phone"                    # canonical name
    crm = "phone"                     # HubSpot property
    afas = "TelNr"                    # AFAS GetConnector field id (read)
    afas_update = "KnOrganisation.TeNr"   # path in the UpdateConnector payload (write)
    normalize = ["phone"]             # normalisers, applied to both sides on read
    crm_codec = "text"                # built-in codec name, or an inline value map
    afas_codec = "text"
    direction = "both"                # both | to_afas | to_crm | on_create
    conflict = "crm_wins"             # optional per-field override of [sync] conflict
    first_link = "afas"               # optional: afas | crm | newest | manual
    blank_overwrites = false          # optional per-field override
    max_length = 30                   # optional: longest value a side can hold
    crm_others = "hs_additional_emails"   # optional: more values, for a "<name>:any" key

The package: :mod:`.field_map` and :mod:`.entity` are the mapping the engine and the
gateways use; :mod:`.tables` (pydantic models) with :mod:`.values` and
:mod:`.cross_checks` validate a file; :mod:`.loading` reports every problem at once, as
one :class:`~syncd.errors.ConfigError`.
"""

from syncd.mapping.entity import COMPANY_ENTITIES, KNOWN_ENTITIES, EntityMapping, SideSpec
from syncd.mapping.field_map import FieldMap
from syncd.mapping.loading import load_mapping, load_mappings, mapping_of

__all__ = [
    "COMPANY_ENTITIES",
    "KNOWN_ENTITIES",
    "EntityMapping",
    "FieldMap",
    "SideSpec",
    "load_mapping",
    "load_mappings",
    "mapping_of",
]
