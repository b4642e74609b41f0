"""Answers recorded from a real Tiki 24.1, copied verbatim from ../shared/tiki-examples/
(the same files; see that folder's README.md and index.json for the requests).

Kept here so the golden-shape tests run on a clean clone; test_master_golden checks these
copies against the originals whenever the shared folder is present.
"""

RECORDED = {
    '01-ajax-list_trackers.json': (
        '{"list":{"1":"SyncDemo"},"data":[{"trackerId":1,"name":"SyncDemo","description":"Demo tr'
        'acker for sync tests","descriptionIsParsed":"n","created":1795764270,"lastModif":1795764'
        '271,"items":3}],"cant":1}'
    ),
    '02-ajax-export_fields.json': (
        '{"title":"Export Fields","trackerId":1,"fields":[{"fieldId":1,"trackerId":1,"name":"Titl'
        'e","permName":"title","options":"{\\"samerow\\":1}","type":"t","isMain":"y","isTblVisible"'
        ':"y","position":10,"isSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"y","d'
        'escription":"Item title","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visible'
        'By":[],"editableBy":[],"descriptionIsParsed":null,"validation":null,"validationParam":nu'
        'll,"validationMessage":null,"rules":null,"encryptionKeyId":null,"options_array":[1,false'
        ',false,false,false,false,false],"options_map":{"samerow":1,"size":false,"prepend":false,'
        '"append":false,"max":false,"autocomplete":false,"exact":false,"labelasplaceholder":0}},{'
        '"fieldId":2,"trackerId":1,"name":"Amount","permName":"amount","options":"{\\"samerow\\":1,'
        '\\"decimals\\":2}","type":"n","isMain":"n","isTblVisible":"y","position":20,"isSearchable"'
        ':"y","isPublic":"y","isHidden":"n","isMandatory":"n","description":"A number","isMultili'
        'ngual":null,"itemChoices":[],"errorMsg":null,"visibleBy":[],"editableBy":[],"description'
        'IsParsed":null,"validation":null,"validationParam":null,"validationMessage":null,"rules"'
        ':null,"encryptionKeyId":null,"options_array":[1,false,false,false,2,".",","],"options_ma'
        'p":{"samerow":1,"size":false,"prepend":false,"append":false,"decimals":2,"dec_point":"."'
        ',"thousands":",","labelasplaceholder":0}},{"fieldId":3,"trackerId":1,"name":"Priority","'
        'permName":"priority","options":"{\\"options\\":[\\"low\\",\\"medium\\",\\"high\\"]}","type":"d",'
        '"isMain":"n","isTblVisible":"y","position":30,"isSearchable":"y","isPublic":"y","isHidde'
        'n":"n","isMandatory":"n","description":"Dropdown","isMultilingual":null,"itemChoices":[]'
        ',"errorMsg":null,"visibleBy":[],"editableBy":[],"descriptionIsParsed":null,"validation":'
        'null,"validationParam":null,"validationMessage":null,"rules":null,"encryptionKeyId":null'
        ',"options_array":["low","medium","high"],"options_map":{"options":["low","medium","high"'
        ']}},{"fieldId":4,"trackerId":1,"name":"Assignee","permName":"assignee","options":"{\\"aut'
        'oassign\\":0,\\"multiple\\":0}","type":"u","isMain":"n","isTblVisible":"y","position":40,"i'
        'sSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"n","description":"User sel'
        'ector","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visibleBy":[],"editableBy'
        '":[],"descriptionIsParsed":null,"validation":null,"validationParam":null,"validationMess'
        'age":null,"rules":null,"encryptionKeyId":null,"options_array":[0,false,""],"options_map"'
        ':{"autoassign":0,"owner":0,"notify":false,"notify_template":false,"notify_template_forma'
        't":"text","multiple":0,"groupIds":[],"canChangeGroupIds":[],"showRealname":0}},{"fieldId'
        '":5,"trackerId":1,"name":"Number","permName":"number","options":"{\\"start\\":100,\\"prepen'
        'd\\":\\"SD-\\",\\"append\\":\\"\\",\\"itemId\\":\\"\\"}","type":"q","isMain":"n","isTblVisible":"y"'
        ',"position":50,"isSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"n","descr'
        'iption":"Auto-increment","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visible'
        'By":[],"editableBy":[],"descriptionIsParsed":null,"validation":null,"validationParam":nu'
        'll,"validationMessage":null,"rules":null,"encryptionKeyId":null,"options_array":[100,"SD'
        '-","",""],"options_map":{"start":100,"prepend":"SD-","append":"","itemId":"","update":fa'
        'lse}}],"export":"[FIELD1]\\nfieldId = 1\\nname = Title\\npermName = title\\nposition = 10\\nt'
        'ype = t\\noptions = {\\"samerow\\":1}\\nisMain = y\\nisTblVisible = y\\nisSearchable = y\\nisPu'
        'blic = y\\nisHidden = n\\nisMandatory = y\\ndescription = Item title\\ndescriptionIsParsed ='
        ' \\nrules = \\n[FIELD2]\\nfieldId = 2\\nname = Amount\\npermName = amount\\nposition = 20\\ntyp'
        'e = n\\noptions = {\\"samerow\\":1,\\"decimals\\":2}\\nisMain = n\\nisTblVisible = y\\nisSearcha'
        'ble = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescription = A number\\ndescriptio'
        'nIsParsed = \\nrules = \\n[FIELD3]\\nfieldId = 3\\nname = Priority\\npermName = priority\\npos'
        'ition = 30\\ntype = d\\noptions = {\\"options\\":[\\"low\\",\\"medium\\",\\"high\\"]}\\nisMain = n\\'
        'nisTblVisible = y\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescri'
        'ption = Dropdown\\ndescriptionIsParsed = \\nrules = \\n[FIELD4]\\nfieldId = 4\\nname = Assign'
        'ee\\npermName = assignee\\nposition = 40\\ntype = u\\noptions = {\\"autoassign\\":0,\\"multiple'
        '\\":0}\\nisMain = n\\nisTblVisible = y\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMan'
        'datory = n\\ndescription = User selector\\ndescriptionIsParsed = \\nrules = \\n[FIELD5]\\nfie'
        'ldId = 5\\nname = Number\\npermName = number\\nposition = 50\\ntype = q\\noptions = {\\"start\\'
        '":100,\\"prepend\\":\\"SD-\\",\\"append\\":\\"\\",\\"itemId\\":\\"\\"}\\nisMain = n\\nisTblVisible = y'
        '\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescription = Auto-incr'
        'ement\\ndescriptionIsParsed = \\nrules = \\n"}'
    ),
    '03-ajax-list_items-raw.json': (
        '{"trackerId":1,"offset":0,"maxRecords":-1,"result":[{"itemId":1,"status":"o","fields":{"'
        'title":"First item","amount":"12.5","priority":"high","assignee":"bob","number":"100"}},'
        '{"itemId":2,"status":"p","fields":{"title":"Second item","amount":"3","priority":"low","'
        'assignee":"carol","number":"101"}},{"itemId":3,"status":"c","fields":{"title":"Third ite'
        'm","amount":"-7.25","priority":"medium","assignee":false,"number":"102"}}]}'
    ),
    '04-ajax-list_items-raw-page.json': (
        '{"trackerId":1,"offset":1,"maxRecords":1,"result":[{"itemId":2,"status":"p","fields":{"t'
        'itle":"Second item","amount":"3","priority":"low","assignee":"carol","number":"101"}}]}'
    ),
    '05-ajax-list_items-raw-no-maxRecords.json': (
        '{"trackerId":1,"offset":null,"maxRecords":null,"result":[]}'
    ),
    '06-ajax-list_items-processed.json': (
        '{"trackerId":1,"offset":0,"maxRecords":-1,"result":[{"itemId":1,"status":"o","fields":{"'
        'title":"First item","amount":"12.50","priority":"high","assignee":"bob","number":"<span '
        'class=\'formunit\'>SD-<\\/span>100"}}]}'
    ),
    '08-ajax-insert_item.json': (
        '{"itemId":4,"status":"o","fields":{"title":"Fourth item (ajax)","amount":"42","priority"'
        ':"medium","assignee":"bob","number":"103"},"itemTitle":"Fourth item (ajax)","processedFi'
        'elds":{"title":"Fourth item (ajax)","amount":"42.00","priority":"medium","assignee":"bob'
        '","number":"<span class=\'formunit\'>SD-<\\/span>103"},"nextTicket":"jKDk10udOfOo5oSFRFR8aJ'
        'vDQXMFKv9bubW3b87KmE0"}'
    ),
    '09-ajax-update_item.json': (
        '{"extra":"refresh","itemId":4,"status":"p","fields":{"title":"Fourth item (ajax)","amoun'
        't":"43.5","priority":"high","assignee":"bob","number":"103"},"nextTicket":"jKDk10udOfOo5'
        'oSFRFR8aJvDQXMFKv9bubW3b87KmE0"}'
    ),
    '11-ajax-list_items-unknown-tracker.json': (
        '{"code":404,"errortitle":"Not found","message":"Not found (404)","page":null}'
    ),
    '12-ajax-list_items-anonymous.json': (
        '{"code":403,"errortitle":"Reserved for tracker administrators","message":"Reserved for t'
        'racker administrators"}'
    ),
    '14-api-version.json': (
        '{"version":"24.1"}'
    ),
    '15-api-trackers.json': (
        '{"list":{"1":"SyncDemo"},"data":[{"trackerId":1,"name":"SyncDemo","description":"Demo tr'
        'acker for sync tests","descriptionIsParsed":"n","created":1795764270,"lastModif":1795764'
        '272,"items":4}],"cant":1}'
    ),
    '16-api-trackerfields-export.json': (
        '{"title":"Export Fields","trackerId":1,"fields":[{"fieldId":1,"trackerId":1,"name":"Titl'
        'e","permName":"title","options":"{\\"samerow\\":1}","type":"t","isMain":"y","isTblVisible"'
        ':"y","position":10,"isSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"y","d'
        'escription":"Item title","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visible'
        'By":[],"editableBy":[],"descriptionIsParsed":null,"validation":null,"validationParam":nu'
        'll,"validationMessage":null,"rules":null,"encryptionKeyId":null,"options_array":[1,false'
        ',false,false,false,false,false],"options_map":{"samerow":1,"size":false,"prepend":false,'
        '"append":false,"max":false,"autocomplete":false,"exact":false,"labelasplaceholder":0}},{'
        '"fieldId":2,"trackerId":1,"name":"Amount","permName":"amount","options":"{\\"samerow\\":1,'
        '\\"decimals\\":2}","type":"n","isMain":"n","isTblVisible":"y","position":20,"isSearchable"'
        ':"y","isPublic":"y","isHidden":"n","isMandatory":"n","description":"A number","isMultili'
        'ngual":null,"itemChoices":[],"errorMsg":null,"visibleBy":[],"editableBy":[],"description'
        'IsParsed":null,"validation":null,"validationParam":null,"validationMessage":null,"rules"'
        ':null,"encryptionKeyId":null,"options_array":[1,false,false,false,2,".",","],"options_ma'
        'p":{"samerow":1,"size":false,"prepend":false,"append":false,"decimals":2,"dec_point":"."'
        ',"thousands":",","labelasplaceholder":0}},{"fieldId":3,"trackerId":1,"name":"Priority","'
        'permName":"priority","options":"{\\"options\\":[\\"low\\",\\"medium\\",\\"high\\"]}","type":"d",'
        '"isMain":"n","isTblVisible":"y","position":30,"isSearchable":"y","isPublic":"y","isHidde'
        'n":"n","isMandatory":"n","description":"Dropdown","isMultilingual":null,"itemChoices":[]'
        ',"errorMsg":null,"visibleBy":[],"editableBy":[],"descriptionIsParsed":null,"validation":'
        'null,"validationParam":null,"validationMessage":null,"rules":null,"encryptionKeyId":null'
        ',"options_array":["low","medium","high"],"options_map":{"options":["low","medium","high"'
        ']}},{"fieldId":4,"trackerId":1,"name":"Assignee","permName":"assignee","options":"{\\"aut'
        'oassign\\":0,\\"multiple\\":0}","type":"u","isMain":"n","isTblVisible":"y","position":40,"i'
        'sSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"n","description":"User sel'
        'ector","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visibleBy":[],"editableBy'
        '":[],"descriptionIsParsed":null,"validation":null,"validationParam":null,"validationMess'
        'age":null,"rules":null,"encryptionKeyId":null,"options_array":[0,false,""],"options_map"'
        ':{"autoassign":0,"owner":0,"notify":false,"notify_template":false,"notify_template_forma'
        't":"text","multiple":0,"groupIds":[],"canChangeGroupIds":[],"showRealname":0}},{"fieldId'
        '":5,"trackerId":1,"name":"Number","permName":"number","options":"{\\"start\\":100,\\"prepen'
        'd\\":\\"SD-\\",\\"append\\":\\"\\",\\"itemId\\":\\"\\"}","type":"q","isMain":"n","isTblVisible":"y"'
        ',"position":50,"isSearchable":"y","isPublic":"y","isHidden":"n","isMandatory":"n","descr'
        'iption":"Auto-increment","isMultilingual":null,"itemChoices":[],"errorMsg":null,"visible'
        'By":[],"editableBy":[],"descriptionIsParsed":null,"validation":null,"validationParam":nu'
        'll,"validationMessage":null,"rules":null,"encryptionKeyId":null,"options_array":[100,"SD'
        '-","",""],"options_map":{"start":100,"prepend":"SD-","append":"","itemId":"","update":fa'
        'lse}}],"export":"[FIELD1]\\nfieldId = 1\\nname = Title\\npermName = title\\nposition = 10\\nt'
        'ype = t\\noptions = {\\"samerow\\":1}\\nisMain = y\\nisTblVisible = y\\nisSearchable = y\\nisPu'
        'blic = y\\nisHidden = n\\nisMandatory = y\\ndescription = Item title\\ndescriptionIsParsed ='
        ' \\nrules = \\n[FIELD2]\\nfieldId = 2\\nname = Amount\\npermName = amount\\nposition = 20\\ntyp'
        'e = n\\noptions = {\\"samerow\\":1,\\"decimals\\":2}\\nisMain = n\\nisTblVisible = y\\nisSearcha'
        'ble = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescription = A number\\ndescriptio'
        'nIsParsed = \\nrules = \\n[FIELD3]\\nfieldId = 3\\nname = Priority\\npermName = priority\\npos'
        'ition = 30\\ntype = d\\noptions = {\\"options\\":[\\"low\\",\\"medium\\",\\"high\\"]}\\nisMain = n\\'
        'nisTblVisible = y\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescri'
        'ption = Dropdown\\ndescriptionIsParsed = \\nrules = \\n[FIELD4]\\nfieldId = 4\\nname = Assign'
        'ee\\npermName = assignee\\nposition = 40\\ntype = u\\noptions = {\\"autoassign\\":0,\\"multiple'
        '\\":0}\\nisMain = n\\nisTblVisible = y\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMan'
        'datory = n\\ndescription = User selector\\ndescriptionIsParsed = \\nrules = \\n[FIELD5]\\nfie'
        'ldId = 5\\nname = Number\\npermName = number\\nposition = 50\\ntype = q\\noptions = {\\"start\\'
        '":100,\\"prepend\\":\\"SD-\\",\\"append\\":\\"\\",\\"itemId\\":\\"\\"}\\nisMain = n\\nisTblVisible = y'
        '\\nisSearchable = y\\nisPublic = y\\nisHidden = n\\nisMandatory = n\\ndescription = Auto-incr'
        'ement\\ndescriptionIsParsed = \\nrules = \\n"}'
    ),
    '17-api-trackers-view-raw.json': (
        '{"trackerId":1,"offset":-1,"maxRecords":-1,"result":[{"itemId":1,"status":"o","fields":{'
        '"title":"First item","amount":"12.5","priority":"high","assignee":"bob","number":"100"}}'
        ',{"itemId":2,"status":"p","fields":{"title":"Second item","amount":"3","priority":"low",'
        '"assignee":"carol","number":"101"}},{"itemId":3,"status":"c","fields":{"title":"Third it'
        'em","amount":"-7.25","priority":"medium","assignee":false,"number":"102"}},{"itemId":4,"'
        'status":"p","fields":{"title":"Fourth item (ajax)","amount":"43.5","priority":"high","as'
        'signee":"bob","number":"103"}}]}'
    ),
    '18-api-trackeritems-create.json': (
        '{"itemId":5,"status":"o","fields":{"title":"Fifth item (api)","amount":"0.5","priority":'
        '"low","assignee":"carol","number":"104"},"itemTitle":"Fifth item (api)","processedFields'
        '":{"title":"Fifth item (api)","amount":"0.50","priority":"low","assignee":"carol","numbe'
        'r":"<span class=\'formunit\'>SD-<\\/span>104"},"nextTicket":"jKDk10udOfOo5oSFRFR8aJvDQXMFKv'
        '9bubW3b87KmE0"}'
    ),
    '19-api-trackeritems-update.json': (
        '{"feedback":{"default":[{"type":"feedback","icon":"success","title":"Success","mes":["Tr'
        'acker item 5 has been updated"]}]},"itemId":5,"status":"o","fields":{"title":"Fifth item'
        ' (api, edited)","amount":"0.5","priority":"high","assignee":"carol","number":"104"},"nex'
        'tTicket":"jKDk10udOfOo5oSFRFR8aJvDQXMFKv9bubW3b87KmE0"}'
    ),
    '21-api-trackers-view-raw-status-c.json': (
        '{"trackerId":1,"offset":-1,"maxRecords":-1,"result":[{"itemId":3,"status":"c","fields":{'
        '"title":"Third item","amount":"-7.25","priority":"medium","assignee":false,"number":"102'
        '"}}]}'
    ),
    '22-api-trackers-no-token.json': (
        '{"code":403,"errortitle":"Reserved for tracker administrators","message":"Reserved for t'
        'racker administrators"}'
    ),
}
