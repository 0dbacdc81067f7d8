<?xml version="1.0" encoding="UTF-8"?>
<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:gml="http://www.opengis.net/gml/3.2" xmlns:hk="urn:example:hauskoordinaten" numberMatched="3" numberReturned="3" timeStamp="2026-11-30T12:00:00Z">
  <wfs:member>
    <hk:Hauskoordinate gml:id="HK.1">
      <hk:oi>DENW000000000001</hk:oi>
      <hk:strassenname>Eichholzstraße</hk:strassenname>
      <hk:hausnummer>12</hk:hausnummer>
      <hk:postleitzahl>59821</hk:postleitzahl>
      <hk:ortsname>Arnsberg</hk:ortsname>
      <hk:position>
        <gml:Point gml:id="P.1" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:pos>432100.000 5697800.000</gml:pos>
        </gml:Point>
      </hk:position>
    </hk:Hauskoordinate>
  </wfs:member>
  <wfs:member>
    <hk:Hauskoordinate gml:id="HK.2">
      <hk:oi>DENW000000000002</hk:oi>
      <hk:strassenname>Klosterstraße</hk:strassenname>
      <hk:hausnummer>3a</hk:hausnummer>
      <hk:postleitzahl>59821</hk:postleitzahl>
      <hk:ortsname>Arnsberg</hk:ortsname>
      <hk:position>
        <gml:Point gml:id="P.2" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:pos>432400.000 5697950.000</gml:pos>
        </gml:Point>
      </hk:position>
    </hk:Hauskoordinate>
  </wfs:member>
  <wfs:member>
    <hk:Hauskoordinate gml:id="HK.3">
      <hk:oi>DENW000000000003</hk:oi>
      <hk:strassenname>Sandstraße</hk:strassenname>
      <hk:hausnummer>54</hk:hausnummer>
      <hk:postleitzahl>57072</hk:postleitzahl>
      <hk:ortsname>Siegen</hk:ortsname>
      <hk:position>
        <gml:Point gml:id="P.3" srsName="http://www.opengis.net/def/crs/EPSG/0/25832">
          <gml:pos>437900.000 5637900.000</gml:pos>
        </gml:Point>
      </hk:position>
    </hk:Hauskoordinate>
  </wfs:member>
</wfs:FeatureCollection>
