# Copyright: groundwork.infra contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by groundwork.infra.ec2 and groundwork.infra.rds (plugin_utils/aws_inventory.py)."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  regions:
    description:
      - Regions to query, all at once.
      - Empty, or C([all]), means every region enabled for each account (one C(DescribeRegions) call).
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  assume_roles:
    description:
      - IAM role ARNs to assume, one per account to list.
      - Every account is queried in every region, concurrently.
      - Empty means the account of the base credentials.
    type: list
    elements: str
    default: []
    version_added: 0.1.0
  profile:
    description:
      - A profile from the AWS config files.
      - Unset, boto3's usual chain applies (environment, files, instance role).
    type: str
    version_added: 0.1.0
  aws_access_key_id:
    description: Access key of the base credentials.
    type: str
    version_added: 0.1.0
  aws_secret_access_key:
    description: Secret key of the base credentials.
    type: str
    version_added: 0.1.0
  aws_session_token:
    description: Session token of the base credentials.
    type: str
    version_added: 0.1.0
  endpoint_url:
    description:
      - Another endpoint for every AWS call (moto, LocalStack, a VPC endpoint).
      - GovCloud and China need no endpoint, only their region names.
    type: str
    version_added: 0.1.0
  retries:
    description:
      - Calls made at most per request, throttling and transient errors included, with exponential backoff
        and full jitter between them (botocore's C(standard) retry mode).
    type: int
    default: 10
    version_added: 0.1.0
  max_concurrency:
    description: Account/region pairs queried at the same time.
    type: int
    default: 16
    version_added: 0.1.0
  strict_permissions:
    description:
      - V(true) fails when access is denied in any account or region.
      - V(false) warns, skips that account/region and lists the rest; the inventory is then partial
        (group C(all) gets C(groundwork_inventory_partial=true) and C(groundwork_inventory_partial_reasons)),
        is not cached, and the roles that rewrite whole lists of peers (pg_hba, firewall, pgBackRest) refuse it.
    type: bool
    default: true
    version_added: 0.1.0
  strict_tags:
    description:
      - V(true) fails when a host's C(groundwork:) tags cannot be used (a cluster name that is not
        lower-case letters, digits, C(_) and C(-) starting with a letter; an unknown role or pg_role), naming
        the instance, the tag and the value.
      - V(false) warns and leaves that host out; the inventory is then partial, as with O(strict_permissions).
    type: bool
    default: true
    version_added: 0.1.0
"""
