//! Entity ids and the Stripe paths they address. A child collection's object lives below its
//! parent at Stripe (`/v1/customers/{customer}/tax_ids/{id}`), so its entity id carries both:
//! `<parent id>,<child id>` (`cus_123,txi_456`). `,` is outside Stripe's id alphabet, so it
//! splits unambiguously and needs no escaping in a path segment.

use serde_json::{Map, Value};

use super::payload::{self, Write, at_path, id_segment};
use crate::catalog::Entity;
use crate::error::{ApiError, ApiResult};

const SEPARATOR: char = ',';

/// The entity id of a Stripe object of `entity` (for a child, its parent's id must be on it;
/// a List copies it there from the conditions).
pub fn of_object(entity: &Entity, object: &Value) -> String {
    let id = object["id"].as_str().unwrap_or_default();
    match entity.parent_field() {
        Some(parent) => {
            let parent = at_path(object, parent.path).as_str().unwrap_or_default();
            format!("{parent}{SEPARATOR}{id}")
        }
        None => id.to_string(),
    }
}

/// A parsed entity id: the parent's id (children only) and the object's own.
#[derive(Debug, PartialEq, Eq)]
pub struct EntityId {
    pub parent: Option<String>,
    pub id: String,
}

impl EntityId {
    /// Checks an entity id as a caller sent it, before any Stripe call: each part is a Stripe
    /// id, and a child's names its parent.
    pub fn parse(entity: &Entity, text: &str) -> ApiResult<Self> {
        let (Some(parent), Some(form)) = (entity.parent_field(), entity.child_id_form()) else {
            return Ok(Self {
                parent: None,
                id: id_segment("id", text)?,
            });
        };
        let expected = || {
            ApiError::invalid(
                "entityId",
                format!(
                    "{} ids are '{form}', as List answers them at the end of each entity's name",
                    entity.name
                ),
            )
        };
        let (parent_id, id) = text.split_once(SEPARATOR).ok_or_else(expected)?;
        if id.contains(SEPARATOR) {
            return Err(expected());
        }
        Ok(Self {
            parent: Some(id_segment(
                &format!("entityId ({} id)", parent.name),
                parent_id,
            )?),
            id: id_segment(&format!("entityId ({} id)", entity.name), id)?,
        })
    }

    /// Stripe's path of the object.
    pub fn path(&self, entity: &Entity) -> String {
        format!(
            "{}/{}",
            collection_path(entity, self.parent.as_deref()),
            self.id
        )
    }

    /// A Stripe answer about this object, with the parent's id (see `with_parent`).
    pub fn complete(&self, entity: &Entity, object: Value) -> Value {
        with_parent(entity, self.parent.as_deref(), object)
    }
}

/// A Stripe answer with the parent's id on it where Stripe left it out, so that `of_object`
/// gives the entity id back.
pub fn with_parent(entity: &Entity, parent: Option<&str>, mut object: Value) -> Value {
    if let (Some(field), Some(parent)) = (entity.parent_field(), parent)
        && object.is_object()
        && object[field.path].is_null()
    {
        object[field.path] = Value::String(parent.to_string());
    }
    object
}

/// The collection's path, a child's with its parent's id filled in.
fn collection_path(entity: &Entity, parent: Option<&str>) -> String {
    match (entity.path_params().next(), parent) {
        (Some(param), Some(parent)) => entity.path.replace(&format!("{{{param}}}"), parent),
        _ => entity.path.to_string(),
    }
}

/// Where a create goes and the form it sends.
#[derive(Debug)]
pub struct Create {
    pub path: String,
    /// A child's parent id, which Stripe's answer may leave out.
    pub parent: Option<String>,
    pub params: Vec<(String, String)>,
}

/// A child's parent field (`Customer` of TaxId) fills the path and is not sent as a form
/// field.
pub fn create_request(entity: &Entity, fields: &Value) -> ApiResult<Create> {
    let Some(parent) = entity.parent_field() else {
        return Ok(Create {
            path: entity.path.to_string(),
            parent: None,
            params: payload::to_form(entity, fields, Write::Create)?,
        });
    };
    let mut rest: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
    let parent_id = match rest.remove(parent.name) {
        Some(Value::String(id)) => id_segment(parent.name, &id)?,
        Some(Value::Null) | None => {
            return Err(ApiError::invalid(
                parent.name,
                format!(
                    "is required: the {} id of the new {}, which Stripe's path {} takes",
                    parent.name, entity.name, entity.path
                ),
            ));
        }
        Some(_) => return Err(ApiError::invalid(parent.name, "expected a string id")),
    };
    let params = payload::to_form(entity, &Value::Object(rest), Write::Create)?;
    Ok(Create {
        path: collection_path(entity, Some(&parent_id)),
        parent: Some(parent_id),
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::entity;
    use serde_json::json;

    #[test]
    fn a_child_id_names_its_parent_and_each_part_is_a_stripe_id() {
        let tax_id = entity("TaxId").unwrap();
        let parsed = EntityId::parse(tax_id, "cus_1,txi_2").unwrap();
        assert_eq!(parsed.path(tax_id), "/v1/customers/cus_1/tax_ids/txi_2");
        assert_eq!(
            of_object(tax_id, &json!({"id": "txi_2", "customer": "cus_1"})),
            "cus_1,txi_2"
        );
        for bad in [
            "txi_2",
            "cus_1,txi_2,x",
            ",txi_2",
            "cus_1,",
            "cus_1/..,txi_2",
            "cus_1,txi 2",
        ] {
            let e = EntityId::parse(tax_id, bad).unwrap_err();
            assert!(e.field().unwrap().starts_with("entityId"), "{bad}: {e:?}");
        }
        let e = EntityId::parse(tax_id, "txi_2").unwrap_err();
        assert!(
            e.message()
                .contains("TaxId ids are '<Customer id>,<TaxId id>'"),
            "{e:?}"
        );
        let customer = entity("Customer").unwrap();
        assert_eq!(
            EntityId::parse(customer, "cus_1").unwrap().path(customer),
            "/v1/customers/cus_1"
        );
        assert!(EntityId::parse(customer, "cus_1,x").is_err());
    }

    #[test]
    fn a_child_create_takes_its_parent_from_the_fields_into_the_path() {
        let tax_id = entity("TaxId").unwrap();
        let create = create_request(
            tax_id,
            &json!({"Customer": "cus_1", "Type": "eu_vat", "Value": "DE1"}),
        )
        .unwrap();
        assert_eq!(create.path, "/v1/customers/cus_1/tax_ids");
        assert_eq!(create.parent.as_deref(), Some("cus_1"));
        assert_eq!(create.params.len(), 2, "{:?}", create.params);
        assert!(create.params.iter().all(|(k, _)| k != "customer"));
        let e = create_request(tax_id, &json!({"Type": "eu_vat"})).unwrap_err();
        assert_eq!(e.field(), Some("Customer"));
        let e = create_request(tax_id, &json!({"Customer": "cus_1/../x"})).unwrap_err();
        assert_eq!(e.field(), Some("Customer"));
    }
}
