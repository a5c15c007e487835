#!/usr/bin/env bash
# Mosquitto 2 dynamic-security setup for Drover's external-broker mode (docs/mqtt.md): the embedded broker's topic
# rules, enforced by Mosquitto. Tested by MosquittoAclTest against Debian's Mosquitto with allow_anonymous false.
#
#   MOSQ_CTRL="-h 127.0.0.1 -p 1883 -u admin -P <admin password>"   # mosquitto_ctrl's connection options
#   drover-dynsec.sh platform <username> <password> [shared group]   # the client the Drover nodes use
#   drover-dynsec.sh device <tenant:device> <device token>           # one device: its own client and role
#   drover-dynsec.sh remove-device <tenant:device>
#
# A device gets a client whose username *and* client id are tenant:device (so it cannot pose as another), with a
# role of its own: publish its telemetry and reported shadow, read its error topic; nothing else. Mosquitto 2.0's
# dynamic security has no %u patterns and its password file cannot hold ':' in a username, hence one role per
# device. Drover's client may read every device's telemetry and reported shadow through the shared subscription
# and write every device's error topic.
set -euo pipefail
ctrl() { mosquitto_ctrl ${MOSQ_CTRL:-} dynsec "$@" > /dev/null 2>&1 || { echo "mosquitto_ctrl dynsec $1 $2 failed" >&2; exit 1; }; }
case "${1:-}" in
  platform)
    user=$2 password=$3 group=${4:-drover}
    ctrl createRole drover-platform
    for t in telemetry shadow/reported; do
      ctrl addRoleACL drover-platform subscribePattern "\$share/$group/devices/+/$t" allow
      ctrl addRoleACL drover-platform publishClientReceive "devices/+/$t" allow
    done
    ctrl addRoleACL drover-platform publishClientSend "devices/+/errors" allow
    ctrl createClient "$user" -p "$password"
    ctrl addClientRole "$user" drover-platform
    ;;
  device)
    id=$2 token=$3 role="device:$2"
    ctrl createRole "$role"
    ctrl addRoleACL "$role" publishClientSend "devices/$id/telemetry" allow
    ctrl addRoleACL "$role" publishClientSend "devices/$id/shadow/reported" allow
    ctrl addRoleACL "$role" subscribeLiteral "devices/$id/errors" allow
    ctrl addRoleACL "$role" publishClientReceive "devices/$id/errors" allow
    ctrl createClient "$id" -c "$id" -p "$token"
    ctrl addClientRole "$id" "$role"
    ;;
  remove-device)
    ctrl deleteClient "$2"
    ctrl deleteRole "device:$2"
    ;;
  *)
    sed -n '2,14p' "$0" >&2
    exit 2
    ;;
esac
