//! The SAM template's security properties, read from `infra/template.yaml` (CloudFormation tags
//! such as `!Sub` are kept as tagged values and looked through).

use serde_yaml::Value;

use crate::support::repo;

fn template() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(repo("infra/template.yaml")).unwrap()).unwrap()
}

/// A tagged value's inner value (`!Sub "..."` → `"..."`).
fn untag(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untag(&t.value),
        other => other,
    }
}

fn strings(v: &Value) -> Vec<String> {
    match untag(v) {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// Every IAM statement anywhere in the document (policies, role trust, bucket, queue and key
/// policies), with the path it was found at.
fn statements(v: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match untag(v) {
        Value::Mapping(m) => {
            for (k, child) in m {
                let key = k.as_str().unwrap_or("?");
                let here = format!("{path}/{key}");
                if key == "Statement" {
                    for (i, s) in untag(child).as_sequence().into_iter().flatten().enumerate() {
                        out.push((format!("{here}[{i}]"), untag(s).clone()));
                    }
                } else {
                    statements(child, &here, out);
                }
            }
        }
        Value::Sequence(items) => {
            for (i, child) in items.iter().enumerate() {
                statements(child, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// What is wrong with the granting statements of a document: a `*` in any action (`*`,
/// `s3:*`, `s3:Get*`), or `NotAction` (which grants everything it does not name).
fn wildcard_grants(doc: &Value) -> Vec<String> {
    let mut found = Vec::new();
    statements(doc, "", &mut found);
    let mut bad = Vec::new();
    for (path, s) in found {
        let effect = s.get("Effect").map(strings).unwrap_or_default();
        if effect.first().is_some_and(|e| e == "Deny") {
            continue;
        }
        if s.get("NotAction").is_some() {
            bad.push(format!("{path}: NotAction in an Allow statement"));
        }
        for action in s.get("Action").map(strings).unwrap_or_default() {
            if action.contains('*') {
                bad.push(format!("{path}: action {action:?}"));
            }
        }
    }
    bad
}

fn resources_of_type<'a>(t: &'a Value, kind: &str) -> Vec<(&'a str, &'a Value)> {
    t["Resources"]
        .as_mapping()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"].as_str() == Some(kind))
        .map(|(k, r)| (k.as_str().unwrap(), r))
        .collect()
}

#[test]
fn no_iam_statement_grants_a_wildcard_action() {
    let t = template();
    let mut all = Vec::new();
    statements(&t, "", &mut all);
    assert!(all.len() > 20, "the walk finds the template's statements ({})", all.len());
    assert_eq!(wildcard_grants(&t), Vec::<String>::new());
}

#[test]
fn the_check_catches_wildcards() {
    let doc: Value = serde_yaml::from_str(
        r#"
Resources:
  R:
    Properties:
      Policies:
        - PolicyDocument:
            Statement:
              - Effect: Allow
                Action: "*"
              - Action: [s3:GetObject, !Sub "s3:*"]
              - Effect: Allow
                NotAction: iam:PassRole
              - Effect: Deny
                Action: "s3:*"
"#,
    )
    .unwrap();
    let bad = wildcard_grants(&doc);
    assert_eq!(bad.len(), 3, "{bad:?}");
    assert!(bad[0].contains("\"*\"") && bad[1].contains("s3:*") && bad[2].contains("NotAction"));
}

#[test]
fn functions_are_built_by_cargo_lambda_and_run_under_their_own_roles() {
    let t = template();
    assert_eq!(t["Transform"].as_str(), Some("AWS::Serverless-2016-10-31"));
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(globals["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(strings(&globals["Architectures"]), ["x86_64"]);
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    let binaries: Vec<String> =
        functions.iter().flat_map(|(_, f)| strings(&f["Metadata"]["BuildProperties"]["Binary"])).collect();
    assert_eq!(binaries, ["ingest", "ingest_chunk", "sla_sweeper", "ops_api"]);
    for (name, f) in &functions {
        assert_eq!(f["Metadata"]["BuildMethod"].as_str(), Some("rust-cargolambda"), "{name}");
        assert!(f["Properties"].get("Role").is_some(), "{name} has its own role");
        // SAM policy templates and managed policies bring broad grants: none.
        assert!(f["Properties"].get("Policies").is_none(), "{name}");
        let bin = strings(&f["Metadata"]["BuildProperties"]["Binary"]).remove(0);
        assert!(repo(&format!("functions/src/bin/{bin}.rs")).exists(), "{name}: {bin}");
    }
    for (name, r) in resources_of_type(&t, "AWS::IAM::Role") {
        assert!(r["Properties"].get("ManagedPolicyArns").is_none(), "{name}");
    }
}

#[test]
fn buckets_are_private_encrypted_and_tls_only_and_tables_recoverable() {
    let t = template();
    let policies = resources_of_type(&t, "AWS::S3::BucketPolicy");
    for (name, b) in resources_of_type(&t, "AWS::S3::Bucket") {
        let p = &b["Properties"];
        let block = &p["PublicAccessBlockConfiguration"];
        for flag in ["BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"] {
            assert_eq!(block[flag].as_bool(), Some(true), "{name}.{flag}");
        }
        assert!(p["BucketEncryption"]["ServerSideEncryptionConfiguration"].as_sequence().is_some(), "{name}");
        let tls_only = policies.iter().any(|(_, pol)| {
            strings(&pol["Properties"]["Bucket"]) == [name.to_string()]
                && pol["Properties"]["PolicyDocument"]["Statement"].as_sequence().unwrap().iter().any(|s| {
                    s["Effect"].as_str() == Some("Deny")
                        && s["Condition"]["Bool"]["aws:SecureTransport"].as_str() == Some("false")
                })
        });
        assert!(tls_only, "{name} refuses plain HTTP");
    }
    for (name, table) in resources_of_type(&t, "AWS::DynamoDB::Table") {
        let pitr = &table["Properties"]["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"];
        assert_eq!(pitr.as_bool(), Some(true), "{name}");
    }
}

#[test]
fn failures_land_in_dead_letter_queues_and_raise_alarms() {
    let t = template();
    let alarms = resources_of_type(&t, "AWS::CloudWatch::Alarm");
    let watched = |metric: &str| -> Vec<String> {
        alarms
            .iter()
            .filter(|(_, a)| a["Properties"]["MetricName"].as_str() == Some(metric))
            .flat_map(|(_, a)| {
                a["Properties"]["Dimensions"].as_sequence().unwrap().iter().flat_map(|d| strings(&d["Value"]))
            })
            .collect()
    };
    assert_eq!(watched("Errors").len(), 4, "one error alarm per function");
    assert_eq!(watched("ApproximateNumberOfMessagesVisible").len(), 3, "one per dead-letter queue");
    assert_eq!(watched("SlaBreaches"), ["CA", "IN", "EU"]);
    assert!(alarms.iter().any(|(_, a)| a["Properties"]["Namespace"].as_str() == Some("Remit")));
    let functions = resources_of_type(&t, "AWS::Serverless::Function");
    for (name, f) in functions.iter().filter(|(n, _)| *n == "IngestFunction" || *n == "SlaSweeperFunction") {
        assert_eq!(f["Properties"]["DeadLetterQueue"]["Type"].as_str(), Some("SQS"), "{name}");
    }
    let chunks = &t["Resources"]["ChunkQueue"]["Properties"]["RedrivePolicy"];
    assert!(chunks.get("deadLetterTargetArn").is_some());
    let mapping = &t["Resources"]["IngestChunkEvents"]["Properties"];
    assert_eq!(mapping["BatchSize"].as_u64(), Some(1));
    assert_eq!(strings(&mapping["FunctionResponseTypes"]), ["ReportBatchItemFailures"]);
}
