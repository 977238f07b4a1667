"""Seeds a moto server with a small account in the middle of a leaked-key incident.

Prints shell assignments for the responder's credentials and the leaked key id. Used by
scripts/sandbox; the Rust test-suite seeds its own accounts through the SDK.
"""
import sys
import time

import boto3

endpoint = sys.argv[1]


def client(service, key=("AKIAIOSFODNN7EXAMPLE", "x" * 40), region="us-east-1"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key[0],
        aws_secret_access_key=key[1],
    )


iam = client("iam")


def user(name, keys=1, inactive=0):
    iam.create_user(UserName=name)
    made = []
    for i in range(keys):
        k = iam.create_access_key(UserName=name)["AccessKey"]
        made.append((k["AccessKeyId"], k["SecretAccessKey"]))
        if i < inactive:
            iam.update_access_key(UserName=name, AccessKeyId=k["AccessKeyId"], Status="Inactive")
    return made


# The responder identity keyspill runs as.
responder = user("ir-responder")[0]
iam.attach_user_policy(UserName="ir-responder", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")

# Ordinary workloads and people, created before the leak.
user("ci-deploy", keys=2, inactive=1)
user("carol-admin")
iam.create_login_profile(UserName="carol-admin", Password="Sandbox-Passw0rd!")
iam.create_group(GroupName="admins")
iam.add_user_to_group(GroupName="admins", UserName="carol-admin")
user("svc-backup")
iam.create_user(UserName="read-only-auditor")

# The developer whose key leaked; AWS has attached its quarantine policy.
leaked = user("dev-alice")[0]
iam.attach_user_policy(
    UserName="dev-alice", PolicyArn="arn:aws:iam::aws:policy/AWSCompromisedKeyQuarantineV3"
)
iam.put_user_policy(
    UserName="dev-alice",
    PolicyName="s3-dev-buckets",
    PolicyDocument='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
)

# The attacker: recon with the leaked key, then a backdoor user with its own key. IAM dates
# have one-second resolution: wait so the backdoor is visibly created after the leak.
client("sts", key=leaked, region="eu-north-1").get_caller_identity()
time.sleep(1.1)
backdoor = user("backup-svc-2")[0]
iam.attach_user_policy(UserName="backup-svc-2", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
client("ec2", key=backdoor, region="ap-south-1").describe_instances()

print(f"RESPONDER_KEY={responder[0]}")
print(f"RESPONDER_SECRET={responder[1]}")
print(f"LEAKED_KEY={leaked[0]}")
