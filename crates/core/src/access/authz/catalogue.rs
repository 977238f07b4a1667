//! The grid's high-impact actions, in the groups the room reads: what an attacker with this
//! credential can do next. Picked from the field guide's high-risk events by tactic.

/// A group of the grid: its heading and its actions (as IAM spells them).
pub struct Group {
    pub heading: &'static str,
    pub actions: &'static [&'static str],
}

pub const GROUPS: &[Group] = &[
    Group {
        heading: "IAM writes",
        actions: &[
            "iam:CreateUser",
            "iam:CreateAccessKey",
            "iam:CreateLoginProfile",
            "iam:UpdateLoginProfile",
            "iam:AttachUserPolicy",
            "iam:PutUserPolicy",
            "iam:AttachRolePolicy",
            "iam:PutRolePolicy",
            "iam:AttachGroupPolicy",
            "iam:AddUserToGroup",
            "iam:CreatePolicyVersion",
            "iam:CreateRole",
            "iam:UpdateAssumeRolePolicy",
            "iam:PassRole",
            "iam:DeleteUserPolicy",
            "iam:DetachUserPolicy",
        ],
    },
    Group {
        heading: "STS",
        actions: &["sts:AssumeRole", "sts:GetFederationToken"],
    },
    Group {
        heading: "Compute",
        actions: &[
            "ec2:RunInstances",
            "ec2:ModifyInstanceAttribute",
            "lambda:CreateFunction",
            "lambda:UpdateFunctionCode",
            "lambda:UpdateFunctionConfiguration",
            "ssm:SendCommand",
        ],
    },
    Group {
        heading: "Data",
        actions: &[
            "s3:ListBucket",
            "s3:GetObject",
            "s3:PutObject",
            "s3:PutBucketPolicy",
            "secretsmanager:GetSecretValue",
            "ssm:GetParameter",
            "kms:Decrypt",
            "ec2:ModifySnapshotAttribute",
        ],
    },
    Group {
        heading: "Logging",
        actions: &[
            "cloudtrail:StopLogging",
            "cloudtrail:DeleteTrail",
            "cloudtrail:UpdateTrail",
            "cloudtrail:PutEventSelectors",
            "guardduty:DeleteDetector",
            "guardduty:UpdateDetector",
        ],
    },
    Group {
        heading: "Organizations",
        actions: &[
            "organizations:LeaveOrganization",
            "organizations:CreateAccount",
            "organizations:InviteAccountToOrganization",
        ],
    },
];

/// The grid's actions lower-cased, as statements match them (built once).
pub fn lower() -> &'static [String] {
    static LOWER: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LOWER.get_or_init(|| actions().iter().map(|a| a.to_ascii_lowercase()).collect())
}

/// Every action of the grid, in order.
pub fn actions() -> Vec<&'static str> {
    GROUPS
        .iter()
        .flat_map(|g| g.actions.iter().copied())
        .collect()
}
