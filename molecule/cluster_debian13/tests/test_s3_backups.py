"""Backups to S3 without a repository host (moto server on the primary, over TLS): stanza, backup and WAL in the
bucket, encrypted; the replica holds the same configuration and backs up only if it becomes the primary."""

import json

import testinfra

HOST = testinfra.get_host("podman://gw-c13")
REPLICA = testinfra.get_host("podman://gw-c13-replica")
BUCKET = "groundwork-backups"
LIST = (
    "import boto3, botocore.config, json; s3 = boto3.client('s3', endpoint_url='https://gw-c13',"
    " region_name='eu-west-1', verify='/etc/ssl/groundwork-test-s3/ca.crt', aws_access_key_id='k',"
    " aws_secret_access_key='s', config=botocore.config.Config(s3={'addressing_style': 'path'}));"
    f" print(json.dumps([o['Key'] for o in s3.list_objects_v2(Bucket='{BUCKET}').get('Contents', [])]))"
)


def pgbackrest(*args):
    result = HOST.run("runuser -u postgres -- pgbackrest --stanza=main " + " ".join(args))
    assert result.rc == 0, result.stderr
    return result.stdout


def bucket_keys():
    result = HOST.run("PYTHONPATH=/opt/moto python3 -c %s", LIST)
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout)


def test_the_stanza_lives_in_the_bucket_encrypted_with_a_full_backup():
    info = json.loads(pgbackrest("info", "--output=json"))[0]
    assert info["status"]["message"] == "ok"
    assert info["cipher"] == "aes-256-cbc"
    assert info["backup"][0]["type"] == "full"
    keys = bucket_keys()
    assert "groundwork/backup/main/backup.info" in keys
    assert any(k.startswith(f"groundwork/backup/main/{info['backup'][0]['label']}/") for k in keys)


def test_wal_reaches_the_bucket():
    segment = HOST.run("runuser -u postgres -- psql -XAtc 'SELECT pg_walfile_name(pg_switch_wal())'").stdout.strip()
    pgbackrest("check")
    assert any(segment in key for key in bucket_keys() if key.startswith("groundwork/archive/main/"))


def test_the_configuration_keeps_the_keys_to_postgres():
    conf = HOST.file("/etc/pgbackrest/pgbackrest.conf")
    assert (conf.user, conf.group, conf.mode) == ("root", "postgres", 0o640)
    assert conf.contains("^repo1-type=s3$")
    assert conf.contains("^repo1-storage-ca-file=/etc/ssl/groundwork-test-s3/ca.crt$")
    assert conf.contains("^repo1-storage-verify-tls=y$")


def test_only_the_primary_backs_up_on_schedule():
    unit = HOST.file("/etc/systemd/system/pgbackrest-main-full.service").content_string
    assert "ExecCondition=" in unit
    assert "pg_is_in_recovery()" in unit
    assert HOST.service("pgbackrest-main-incr.timer").is_running


def test_schedules_reach_the_timers_as_written():
    full_timer = HOST.file("/etc/systemd/system/pgbackrest-main-full.timer").content_string
    assert "OnCalendar=2099-01-04 01:00:00" in full_timer
    incr_timer = HOST.file("/etc/systemd/system/pgbackrest-main-incr.timer").content_string
    assert "OnCalendar=2099-01-05 02:30:00" in incr_timer  # given as a YAML timestamp


def test_the_replica_reads_the_repository_and_its_backups_wait_until_it_is_the_primary():
    info = REPLICA.run("runuser -u postgres -- pgbackrest --stanza=main info --output=json")
    assert info.rc == 0, info.stderr
    backups = len(json.loads(info.stdout)[0]["backup"])
    started = REPLICA.run("systemctl start pgbackrest-main-incr.service")
    assert started.rc == 0, started.stderr
    assert REPLICA.run("systemctl show -P Result pgbackrest-main-incr.service").stdout.strip() == "exec-condition"
    assert len(json.loads(pgbackrest("info", "--output=json"))[0]["backup"]) == backups
